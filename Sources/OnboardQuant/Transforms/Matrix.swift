import CBLAS
import OnboardCore

/// A small dense row-major f32 matrix for calibration-time linear algebra (products through OpenBLAS).
public struct Matrix: Equatable, Sendable {
    public let rows: Int
    public let cols: Int
    public var values: [Float]

    public init(rows: Int, cols: Int, values: [Float]) throws {
        guard rows >= 0, cols >= 0, values.count == rows * cols else {
            throw OnboardError.shape(item: "matrix", reason: "\(values.count) values do not fill \(rows) x \(cols)")
        }
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(zeros rows: Int, _ cols: Int) {
        self.rows = rows
        self.cols = cols
        values = [Float](repeating: 0, count: rows * cols)
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(zeros: n, n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    public static func diagonal(_ d: [Float]) -> Matrix {
        var m = Matrix(zeros: d.count, d.count)
        for (i, v) in d.enumerated() { m[i, i] = v }
        return m
    }

    public subscript(r: Int, c: Int) -> Float {
        get { values[r * cols + c] }
        set { values[r * cols + c] = newValue }
    }

    public var transposed: Matrix {
        var t = Matrix(zeros: cols, rows)
        for r in 0..<rows { for c in 0..<cols { t.values[c * rows + r] = values[r * cols + c] } }
        return t
    }

    /// `self * other` (or with either side transposed) through `cblas_sgemm`.
    public func multiplied(by other: Matrix, transposeSelf: Bool = false, transposeOther: Bool = false) throws -> Matrix {
        let m = transposeSelf ? cols : rows, k = transposeSelf ? rows : cols
        let k2 = transposeOther ? other.cols : other.rows, n = transposeOther ? other.rows : other.cols
        guard k == k2 else {
            throw OnboardError.shape(item: "matrix product", reason: "inner dimensions \(k) and \(k2) differ")
        }
        var out = Matrix(zeros: m, n)
        guard m > 0, n > 0, k > 0 else { return out }
        BLASThreads.useOne()
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                out.values.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(CblasRowMajor, transposeSelf ? CblasTrans : CblasNoTrans, transposeOther ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(k), 1, a.baseAddress, Int32(cols), b.baseAddress, Int32(other.cols),
                                0, c.baseAddress, Int32(n))
                }
            }
        }
        return out
    }

    public static func * (lhs: Matrix, rhs: Matrix) throws -> Matrix { try lhs.multiplied(by: rhs) }

    /// Largest |(Q^T Q - I)_ij|: 0 for an exactly orthogonal matrix.
    public func orthogonalityError() throws -> Float {
        let g = try multiplied(by: self, transposeSelf: true)
        var worst: Float = 0
        for r in 0..<g.rows { for c in 0..<g.cols { worst = max(worst, abs(g[r, c] - (r == c ? 1 : 0))) } }
        return worst
    }
}
