import CKernels
import OnboardCore

/// A GEMM right-hand side packed into column panels for `onboard_f32_gemm_packed`.
/// Packed Linear weights by constant name, shared by the FP32 executors of one model built at
/// several shapes. Only share it between graphs whose same-named constants hold the same values.
public typealias PackedWeightCache = Memo<String, PackedMatrix>

public final class PackedMatrix: @unchecked Sendable {
    public let k: Int
    public let n: Int
    public let panelWidth: Int
    let buffer: AlignedBuffer

    /// Packs `alpha · B`, B given as [K, N], or as [N, K] when `transposed` (a Linear weight).
    public init(_ b: UnsafePointer<Float>, k: Int, n: Int, transposed: Bool, alpha: Float = 1) {
        self.k = k
        self.n = n
        panelWidth = onboard_f32_gemm_nr()
        let count = onboard_f32_gemm_packed_size(k, n, panelWidth)
        buffer = AlignedBuffer(byteCount: count * 4)
        PackedGEMM.pack(b, k: k, n: n, transposed: transposed, alpha: alpha,
                        into: buffer.pointer.assumingMemoryBound(to: Float.self))
    }

    public var panels: Int { (n + panelWidth - 1) / panelWidth }
    public var byteCount: Int { buffer.byteCount }
    var floats: UnsafePointer<Float> { UnsafePointer(buffer.pointer.assumingMemoryBound(to: Float.self)) }
}

enum PackedGEMM {
    /// Floats of scratch needed to pack a [K, N] operand at run time, under whatever ISA cap is set then.
    static func packedFloats(k: Int, n: Int) -> Int {
        onboard_f32_gemm_packed_size(k, n, onboard_f32_gemm_widest_nr())
    }

    /// C[M, N] = A[M, K] · B (+ bias), panels split over `threads`.
    static func multiply(
        m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedMatrix, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        Parallel.forRanges(count: b.panels, threads: threads) { panels in
            onboard_f32_gemm_packed(m, b.n, b.k, a, lda, b.floats, b.panelWidth, bias, c, ldc,
                                    panels.lowerBound, panels.upperBound)
        }
    }

    /// Packs a [K, N] operand (or [N, K] when `transposed`) into `packed` at the current panel width.
    static func pack(_ b: UnsafePointer<Float>, k: Int, n: Int, transposed: Bool, alpha: Float = 1,
                     into packed: UnsafeMutablePointer<Float>) {
        let nr = onboard_f32_gemm_nr()
        onboard_f32_gemm_pack_b(b, transposed ? k : n, transposed, k, n, nr, packed)
        if alpha != 1 {
            for i in 0..<onboard_f32_gemm_packed_size(k, n, nr) { packed[i] *= alpha }
        }
    }

    /// C[M, N] = A[M, K] · packed B on the calling thread (A and C dense).
    static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        let nr = onboard_f32_gemm_nr()
        onboard_f32_gemm_packed(m, n, k, a, k, packed, nr, nil, c, n, 0, (n + nr - 1) / nr)
    }
}
