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

/// Row-major single-precision GEMM: C[M,N] = A[M,K] · op(B) (+ C when `accumulate`), split by
/// rows of C or, when it is wider than tall, by columns, into `BLASParts` that threads take whole.
/// `transposeB` means B is stored [N, K].
func sgemm(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, threads: Int
) {
    BLASThreads.useOne()
    let byRows = m >= n
    let parts = BLASParts.split(byRows ? m : n)
    Parallel.forRanges(count: parts.count, threads: threads) { taken in
        for part in parts[taken] {
            let rows = byRows ? part : 0..<m, columns = byRows ? 0..<n : part
            let bColumn = transposeB ? columns.lowerBound * ldb : columns.lowerBound
            cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(rows.count), Int32(columns.count), Int32(k), 1, a + rows.lowerBound * lda, Int32(lda),
                        b + bColumn, Int32(ldb), accumulate ? 1 : 0,
                        c + rows.lowerBound * ldc + columns.lowerBound, Int32(ldc))
        }
    }
}

/// OpenBLAS orders each element's sum by the shape of the call it is computed in (its edge tiles
/// run other kernels), so a product split by thread count gives other floats on 1 and 2 threads.
/// `sgemm` splits by the product's shape alone instead: at most `maximum` parts, each a multiple of
/// `alignment` long (a multiple of the common micro-tile heights), one BLAS call each.
enum BLASParts {
    static let maximum = 8
    static let alignment = 24

    static func split(_ extent: Int) -> [Range<Int>] {
        let perPart = max(1, (extent + maximum * alignment - 1) / (maximum * alignment)) * alignment
        return stride(from: 0, to: extent, by: perPart).map { $0..<min($0 + perPart, extent) }
    }
}
