import CBLAS
import OnboardCore

/// Streaming mean and covariance of calibration activations [tokens, channels] (sums in Double).
public struct CovarianceAccumulator: Sendable {
    public let channels: Int
    public let item: String
    private(set) var count = 0
    private var sum: [Double]
    private var outer: [Double]

    public init(channels: Int, item: String) {
        self.channels = channels
        self.item = item
        sum = [Double](repeating: 0, count: channels)
        outer = [Double](repeating: 0, count: channels * channels)
    }

    public mutating func observe(_ rows: [Float]) throws {
        guard channels > 0, rows.count % channels == 0 else {
            throw OnboardError.shape(item: item, reason: "\(rows.count) values are not rows of \(channels) channels")
        }
        if let bad = rows.firstNonFiniteIndex {
            throw OnboardError.shape(item: item, reason: "calibration value \(bad) is \(rows[bad])")
        }
        let n = rows.count / channels
        guard n > 0 else { return }
        let x = try Matrix(rows: n, cols: channels, values: rows)
        let gram = try x.multiplied(by: x, transposeSelf: true)
        for i in outer.indices { outer[i] += Double(gram.values[i]) }
        for r in 0..<n { for c in 0..<channels { sum[c] += Double(rows[r * channels + c]) } }
        count += n
    }

    public var mean: [Float] { sum.map { Float($0 / Double(max(count, 1))) } }

    /// Sample covariance (divided by N - 1, as torch.cov).
    public func covariance() throws -> Matrix {
        guard count >= 2 else { throw OnboardError.shape(item: item, reason: "covariance needs at least 2 calibration rows, got \(count)") }
        var c = Matrix(zeros: channels, channels)
        let n = Double(count)
        for i in 0..<channels { for j in 0..<channels {
            c[i, j] = Float((outer[i * channels + j] - sum[i] * sum[j] / n) / (n - 1))
        } }
        return c
    }
}

/// Eigen-decomposition of a symmetric matrix through LAPACK `ssyevd` (OpenBLAS).
public enum SymmetricEigen {
    /// Eigenvalues in descending order and the matching unit eigenvectors as the columns of `vectors`.
    public static func decompose(_ matrix: Matrix, item: String = "covariance") throws -> (values: [Float], vectors: Matrix) {
        let n = matrix.rows
        guard n == matrix.cols, n > 0 else { throw OnboardError.shape(item: item, reason: "eigen-decomposition needs a square matrix") }
        var a = matrix.values  // symmetric: row-major equals column-major
        var w = [Float](repeating: 0, count: n)
        var jobz = Int8(UInt8(ascii: "V")), uplo = Int8(UInt8(ascii: "U"))
        var order = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery: Float = 0, iworkQuery: Int32 = 0
        ssyevd_(&jobz, &uplo, &order, &a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        guard info == 0 else { throw OnboardError.model(item: item, reason: "ssyevd workspace query failed (info \(info))") }
        lwork = Int32(workQuery)
        liwork = iworkQuery
        var work = [Float](repeating: 0, count: Int(max(lwork, 1)))
        var iwork = [Int32](repeating: 0, count: Int(max(liwork, 1)))
        ssyevd_(&jobz, &uplo, &order, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { throw OnboardError.model(item: item, reason: "ssyevd did not converge (info \(info))") }
        // Column-major result: eigenvector i is a[i*n ..< (i+1)*n]; reorder to descending eigenvalues.
        var vectors = Matrix(zeros: n, n)
        for (column, source) in (0..<n).reversed().enumerated() {
            for r in 0..<n { vectors[r, column] = a[source * n + r] }
        }
        return (w.reversed(), vectors)
    }
}

/// MambaQuant's KLT-enhanced rotation: `R = K · H`, K the covariance eigenvectors (columns), H a
/// (random) Hadamard. Rotated activations `x · R` have covariance `H^T Λ H`, whose diagonal is the mean
/// eigenvalue for every channel because |H_ij| = 1/sqrt(n): the channel variances become equal.
public enum KLTRotation {
    public static func klt(_ covariance: Matrix) throws -> Matrix {
        try SymmetricEigen.decompose(covariance).vectors
    }

    /// `K · H` with H the plain (seed nil) or random (D · H) Hadamard.
    public static func kltHadamard(_ covariance: Matrix, seed: UInt64? = nil) throws -> Matrix {
        let k = try klt(covariance)
        var rotated = k.values
        if let seed {
            try RandomHadamard(size: k.cols, seed: seed).applyRows(&rotated)
        } else {
            try Hadamard(size: k.cols).applyRows(&rotated)
        }
        return try Matrix(rows: k.rows, cols: k.cols, values: rotated)
    }
}
