import Foundation
import OnboardCore

/// OSTQuant's quantization space utilization ratio (QSUR): the volume of the activations'
/// Gaussian ellipsoid (∝ Π √λ_i of their covariance) over the volume of the per-tensor
/// quantization hypercube (range^d). Reported per dimension, `(Π √λ_i)^(1/d) / range`, which drops
/// the ellipsoid's constant factor: ratios between two transforms of the same activations are
/// exact, and 1 / √d·… bounds are not needed to rank them.
public enum QuantizationSpaceUtilization {
    /// QSUR^(1/d) of activations with covariance `covariance`, per-channel minima and maxima
    /// `minimum`/`maximum`, seen through the per-channel division `x / scale` (nil: as they are).
    public static func perDimension(covariance: Matrix, minimum: [Float], maximum: [Float], scale: [Float]? = nil) throws -> Double {
        let d = covariance.rows
        guard d > 0, covariance.cols == d, minimum.count == d, maximum.count == d, scale.map({ $0.count == d }) ?? true else {
            throw OnboardError.shape(item: "QSUR", reason: "a \(covariance.rows)x\(covariance.cols) covariance for \(minimum.count) channels")
        }
        let values = try SymmetricEigen.decompose(covariance, item: "QSUR covariance").values.map(Double.init)
        let floor = max(values.max() ?? 0, 0) * 1e-12
        guard floor > 0 else { return 0 }
        // Σ' = D Σ D with D = diag(1 / s): log det Σ' = log det Σ - 2 Σ log s.
        let logScale = (scale ?? []).reduce(0.0) { $0 + log(Double($1)) }
        let logDeterminant = values.reduce(0.0) { $0 + log(max($1, floor)) } - 2 * logScale
        var low = Double.infinity, high = -Double.infinity
        for j in 0..<d {
            let s = Double(scale?[j] ?? 1)
            low = min(low, Double(minimum[j]) / s)
            high = max(high, Double(maximum[j]) / s)
        }
        guard high > low else { return 0 }
        return exp(logDeterminant / (2 * Double(d))) / (high - low)
    }
}
