#!/usr/bin/env bash
# Times the selective scan kernels on Vim-T's shape (L 197, ED 384, N 16, both directions, 24 layers)
# on one core: builds tools/bench_scan.c with the C kernels at -O2 (what `swift build -c release`
# gives C targets) and runs it; every kernel of the f32_scan list this CPU has runs in alternating
# rounds, and each prints its median and fastest round and ns per (token, channel, state).
#   tools/bench_scan.sh [rounds [layers [length [channels [state]]]]]
set -euo pipefail
cd "$(dirname "$0")/.."

build="${TMPDIR:-/tmp}/onboard-bench-scan-$$"
trap 'rm -rf "$build"' EXIT
mkdir -p "$build"
"${CC:-clang}" -O2 -ISources/CKernels/include -ISources/CKernels tools/bench_scan.c Sources/CKernels/*.c -lm -lpthread \
    -o "$build/bench_scan"
"$build/bench_scan" "$@"
