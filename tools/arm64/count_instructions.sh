#!/usr/bin/env bash
# Instruction density of the arm64 GEMM kernels under qemu: for every GEMM kernel of the lists
# (f32_gemm, q8_gemm) the emulated core has, and each shape, the guest instructions one call
# executes (counted by a TCG plugin, tools/arm64/insn_count_plugin.c: two runs that differ only
# in the number of calls, subtracted) and the multiply-adds per instruction (m*k*n / count; for
# FP32 these are FLOP pairs). Counts are exact and repeatable, unlike times under emulation.
#   tools/arm64/count_instructions.sh [--cpu max] [--cc clang|aarch64-linux-gnu-gcc] [--kernel REGEX]
#                                     [--out s32|u8|u8fixed] [MxKxN ...]
# Default shapes: 197x384x1152 (DeiT-S qkv) and 6000x256x256 (PETR memory tokens); --kernel keeps the
# kernels whose name matches (e.g. 'neon|i8mm'); the scalar ones take a minute or two. --out sets
# the INT8 output: s32 sums (default, as bench-gemm), or u8 requantized per column by a float scale
# or a fixed-point multiplier (u8fixed), with a column bias.
set -euo pipefail
cd "$(dirname "$0")/../.."

cpu=max cc=clang filter="" out=s32
shapes=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cpu) cpu="$2"; shift 2 ;;
        --cc) cc="$2"; shift 2 ;;
        --kernel) filter="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *x*x*) shapes+=("$1"); shift ;;
        *) echo "count_instructions: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ ${#shapes[@]} -gt 0 ] || shapes=(197x384x1152 6000x256x256)
tools/setup.sh qemu-user libc6-dev-arm64-cross gcc-aarch64-linux-gnu

build="${TMPDIR:-/tmp}/onboard-count-$$"
trap 'rm -rf "$build"' EXIT
mkdir -p "$build"
cc -shared -fPIC -O2 -o "$build/insn_count.so" tools/arm64/insn_count_plugin.c
case "$cc" in
    clang) target=(clang --target=aarch64-linux-gnu) ;;
    *) target=("$cc") ;;
esac
"${target[@]}" -O2 -ISources/CKernels/include -ISources/CKernels \
    tools/arm64/count_gemm.c Sources/CKernels/*.c -lm -lpthread -o "$build/count_gemm"

qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu "$cpu")
# Guest instructions of one run of count_gemm with these arguments.
count() {
    "${qemu[@]}" -plugin "$build/insn_count.so" -d plugin -D "$build/log" "$build/count_gemm" "$@" >/dev/null
    sed -n 's/^insn_count: //p' "$build/log"
}

printf '%-34s %-14s %14s %12s\n' kernel "shape MxKxN" "insns/call" "madds/insn"
"${qemu[@]}" "$build/count_gemm" | while read -r family kernel; do
    [[ "$kernel" =~ $filter ]] || continue
    for shape in "${shapes[@]}"; do
        IFS=x read -r m k n <<<"$shape"
        one=$(count "$kernel" "$m" "$k" "$n" 1 "$out")
        two=$(count "$kernel" "$m" "$k" "$n" 2 "$out")
        awk -v kernel="$kernel" -v shape="$shape" -v d="$((two - one))" -v macs="$((m * k * n))" \
            'BEGIN { printf "%-34s %-14s %14.0f %12.2f\n", kernel, shape, d, macs / d }'
    done
done
