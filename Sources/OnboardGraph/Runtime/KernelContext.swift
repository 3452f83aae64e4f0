import CBLAS
import OnboardCore

/// A tensor as a kernel sees it: a pointer and a shape.
public struct Operand {
    public let pointer: UnsafeMutableRawPointer
    public let shape: [Int]
    public let dtype: DType

    public var count: Int { shape.reduce(1, *) }
    public var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }
}

/// What a kernel may use besides its operands.
public struct KernelContext {
    public let threads: Int
    /// Scratch memory of at least the op's `scratchBytes`.
    public let scratch: UnsafeMutableRawPointer
    /// The node's constant right-hand side, packed once by the executor (linear weights).
    public var packed: PackedMatrix? = nil
}

/// OpenBLAS thread control: its pool is global, so we set it only when it changes.
enum BLASThreads {
    nonisolated(unsafe) private static var current = -1

    static func set(_ threads: Int) {
        guard threads != current else { return }
        openblas_set_num_threads(Int32(threads))
        current = threads
    }
}

/// Row-major single-precision GEMM: C[M,N] = A[M,K] · op(B) (+ C when `accumulate`).
/// `transposeB` means B is stored [N, K].
@inline(__always)
func sgemm(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
                accumulate ? 1 : 0, c, Int32(ldc))
}
