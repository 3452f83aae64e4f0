import Foundation
import OnboardCore

extension QuantMetrics {
    /// OSTQuant's quantization space utilization rate of samples [rows, d]: the volume of the data's
    /// confidence ellipsoid over the volume of the per-tensor quantization hypercube that must hold it.
    ///
    /// Reported as the d-th root of that ratio with the unit-ball constant dropped, so it lies in [0, 1]:
    /// `QSUR = (Π sqrt(λ_i))^(1/d) / max_j(|μ_j| / c + sqrt(Σ_jj))`, λ the covariance eigenvalues, c the
    /// confidence radius (in standard deviations). 1 means centred data with equal eigenvalues.
    public static func qsur(_ x: Matrix, confidence c: Double = 3) throws -> Double {
        var accumulator = CovarianceAccumulator(channels: x.cols, item: "QSUR samples")
        try accumulator.observe(x.values)
        let covariance = try accumulator.covariance()
        let eigenvalues = try SymmetricEigen.decompose(covariance, item: "QSUR covariance").values
        guard let smallest = eigenvalues.last, smallest > 0 else { return 0 }
        let logVolume = eigenvalues.map { 0.5 * log(Double($0)) }.reduce(0, +) / Double(x.cols)
        let mean = accumulator.mean
        var side = 0.0
        for j in 0..<x.cols { side = max(side, Double(abs(mean[j])) / c + Double(max(covariance[j, j], 0)).squareRoot()) }
        return side > 0 ? exp(logVolume) / side : 0
    }
}
