#!/usr/bin/env bash
# Guest instructions per element of each INT8 row and codec op under qemu-aarch64 (-cpu max):
# the scalar reference (cap 0) against the fastest kernel the CPU has, one call of 6 x 384 codes,
# from two counted runs of tools/arm64/count_rows.c that differ only in the number of calls.
# Needs the instruction-count plugin: INSN_PLUGIN=path/to/insn_count.so (tools/arm64/insn_count_plugin.c).
set -euo pipefail
cd "$(dirname "$0")/../.."
plugin="${INSN_PLUGIN:?set INSN_PLUGIN to the built qemu instruction-count plugin}"
build="${TMPDIR:-/tmp}/onboard-count-rows-$$"
trap 'rm -rf "$build"' EXIT
mkdir -p "$build"
clang --target=aarch64-linux-gnu -O2 -ISources/CKernels/include -ISources/CKernels \
    tools/arm64/count_rows.c Sources/CKernels/*.c -lm -lpthread -o "$build/count_rows"
count() {
    qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max -plugin "$plugin" -d plugin "$build/count_rows" "$@" 2>&1 \
        | sed -n 's/^insn_count: //p'
}
printf '%-24s %10s %10s\n' op scalar fastest
for op in q8_stabilize_rows_s32 q8_softmax_lut_rows q8_layernorm_rows q8_divide_rows_s32 q8_quantize_u8 \
          q8_dequantize_u8 q8_requantize_u8 q8_row_sums q8_add_u8 q8_add_u8_dyadic q8_add_const_u8_dyadic q8_lookup_u8; do
    line="$op"
    for cap in 0 -1; do
        one=$(count "$op" "$cap" 1); eleven=$(count "$op" "$cap" 11)
        line="$line $(awk -v a="$one" -v b="$eleven" 'BEGIN { printf "%.2f", (b - a) / 10 / (6 * 384) }')"
    done
    printf '%-24s %10s %10s\n' $line
done
