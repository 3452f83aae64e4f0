import CKernels
import OnboardCore

/// A constant weight [N, K] packed once for the integer kernels: 8-bit codes in the INT8 GEMM's
/// panels, or 4-bit codes (in [-8, 7]) two per byte for the kernels that unpack them in registers.
final class PackedWeights {
    let k: Int
    let n: Int
    let bits: Int
    private let buffer: AlignedBuffer
    /// Every code in [-64, 64]: CPUs without an int8 dot product then run an exact vpmaddubsw kernel.
    let fitsSevenBits: Bool
    /// Σ_k B[k][j] per column (N values), for zero-point folding.
    let columnSums: [Int32]

    var byteCount: Int { buffer.byteCount }
    var panels: Int { (n + Int(ONBOARD_Q8_NR) - 1) / Int(ONBOARD_Q8_NR) }

    /// - Parameters:
    ///   - codes: the weight's int8 codes [N, K] (row j = output j, `rowStride` apart; K when nil);
    ///     with `bits` 4 each in [-8, 7].
    init(codes: UnsafePointer<Int8>, n: Int, k: Int, rowStride: Int? = nil, bits: Int) {
        self.k = k
        self.n = n
        self.bits = bits
        let ldb = rowStride ?? k
        var sums = [Int32](repeating: 0, count: n)
        if bits == 4 {
            buffer = AlignedBuffer(byteCount: max(onboard_q4_packed_size(k, n), 1))
            onboard_q4_pack_b(codes, ldb, true, k, n, buffer.pointer.assumingMemoryBound(to: UInt8.self), &sums)
            fitsSevenBits = true
        } else {
            buffer = AlignedBuffer(byteCount: max(onboard_q8_packed_size(k, n), 1))
            onboard_q8_pack_b(codes, ldb, true, k, n, buffer.pointer.assumingMemoryBound(to: Int8.self), &sums)
            fitsSevenBits = onboard_q8_b_fits_7_bits(codes, ldb, n, k)
        }
        columnSums = sums
    }

    /// out[M, N] = a[M, K] (u8, row stride lda) times the weight, columns of panels `panels`.
    func gemm(m: Int, a: UnsafePointer<UInt8>, lda: Int, epilogue: UnsafePointer<onboard_q8_epilogue>,
              out: UnsafeMutableRawPointer, ldc: Int, panels: Range<Int>) {
        if bits == 4 {
            onboard_q4_gemm(m, n, k, a, lda, buffer.pointer.assumingMemoryBound(to: UInt8.self), epilogue, out, ldc,
                            panels.lowerBound, panels.upperBound)
        } else {
            onboard_q8_gemm(m, n, k, a, lda, buffer.pointer.assumingMemoryBound(to: Int8.self), epilogue, out, ldc,
                            panels.lowerBound, panels.upperBound)
        }
    }

    /// The same with `out` holding only those panels' columns.
    func gemmPanelsInto(m: Int, a: UnsafePointer<UInt8>, lda: Int, epilogue: UnsafePointer<onboard_q8_epilogue>,
                        out: UnsafeMutableRawPointer, ldc: Int, panels: Range<Int>) {
        if bits == 4 {
            onboard_q4_gemm_panels_into(m, n, k, a, lda, buffer.pointer.assumingMemoryBound(to: UInt8.self), epilogue, out, ldc,
                                        panels.lowerBound, panels.upperBound)
        } else {
            onboard_q8_gemm_panels_into(m, n, k, a, lda, buffer.pointer.assumingMemoryBound(to: Int8.self), epilogue, out, ldc,
                                        panels.lowerBound, panels.upperBound)
        }
    }

    /// The codes of weight columns `depths` (rows of B = Bᵀ's columns), as int32 [depths.count, N]:
    /// one-hot rows of A through the packed product, so they come from the kernels' own layout.
    func depthRows(_ depths: [Int], into rows: UnsafeMutablePointer<Int32>, scratch: UnsafeMutablePointer<UInt8>) {
        guard !depths.isEmpty else { return }
        scratch.update(repeating: 0, count: depths.count * k)
        for (row, depth) in depths.enumerated() { scratch[row * k + depth] = 1 }
        var e = onboard_q8_epilogue()
        e.out_type = ONBOARD_Q8_OUT_S32
        e.b_fits_7_bits = fitsSevenBits ? 1 : 0
        gemm(m: depths.count, a: scratch, lda: k, epilogue: &e, out: UnsafeMutableRawPointer(rows), ldc: n, panels: 0..<panels)
    }
}
