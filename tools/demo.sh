#!/usr/bin/env bash
# Quick start, command 1: set up, build in release mode and run `onboard demo` (extra
# arguments are passed to it).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build -c release --product onboard >&2
exec .build/release/onboard demo "$@"
