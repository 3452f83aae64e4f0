#!/usr/bin/env bash
# Quick start, command 2: set up and run the whole test suite (no network, torch or GPU needed).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# The C kernels for arm64, under emulation (every path bit-exact against the scalar reference).
tools/test-arm64.sh
# The suite is XCTest; skipping the empty Swift Testing pass keeps its summary the last line.
exec swift test --disable-swift-testing "$@"
