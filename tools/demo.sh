#!/usr/bin/env bash
# Quick start, command 1: set up, build in release mode and run `onboard demo` (extra
# arguments are passed to it).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# The Swift runtime and Foundation linked in: about 10 MiB less resident than the shared libraries.
swift build -c release --product onboard --static-swift-stdlib >&2
exec .build/release/onboard demo "$@"
