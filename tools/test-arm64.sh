#!/usr/bin/env bash
# The C kernels on arm64: cross-compiles them with tools/arm64/kernel_check.c (clang, Debian's
# aarch64 sysroot) and runs the check under qemu-aarch64 on a core with i8mm and dot product
# (max), one with dot product only (cortex-a76) and one with neither (cortex-a72). Every kernel of
# every family's list (Sources/CKernels/*_kernels.h) the emulated core has runs with the ISA capped
# at it: the INT8 ones must equal the scalar reference bit for bit. The same check built with
# Debian's aarch64-linux-gnu-gcc runs once (-cpu max): the kernels compile with clang and gcc.
# Last, the instruction density of the arm64 GEMM kernels (tools/arm64/count_instructions.sh;
# ONBOARD_ARM64_DENSITY=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh qemu-user libc6-dev-arm64-cross gcc-aarch64-linux-gnu

build="${TMPDIR:-/tmp}/onboard-arm64-$$"
trap 'rm -rf "$build"' EXIT
mkdir -p "$build"
clang --target=aarch64-linux-gnu -O2 -ISources/CKernels/include -ISources/CKernels \
    tools/arm64/kernel_check.c Sources/CKernels/*.c -lm -lpthread -o "$build/kernel_check"
aarch64-linux-gnu-gcc -O2 -ISources/CKernels/include -ISources/CKernels \
    tools/arm64/kernel_check.c Sources/CKernels/*.c -lm -lpthread -o "$build/kernel_check_gcc"

status=0
for cpu in max cortex-a76 cortex-a72; do
    echo "arm64 kernels, qemu-aarch64 -cpu $cpu:"
    qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu "$cpu" "$build/kernel_check" "${ONBOARD_ARM64_CASES:-300}" | sed 's/^/  /' || status=1
done
echo "arm64 kernels built with aarch64-linux-gnu-gcc, qemu-aarch64 -cpu max:"
qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max "$build/kernel_check_gcc" "${ONBOARD_ARM64_CASES:-300}" | sed 's/^/  /' || status=1
if [ "${ONBOARD_ARM64_DENSITY:-1}" != 0 ]; then
    echo "arm64 GEMM instruction density (qemu-aarch64 -cpu max, clang):"
    tools/arm64/count_instructions.sh --kernel 'neon|i8mm' | sed 's/^/  /' || status=1
fi
exit "$status"
