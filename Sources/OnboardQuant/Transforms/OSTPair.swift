import Foundation
import OnboardCore

/// OSTQuant's orthogonal + scaling pair (its QSUR metric is in QSUR.swift, its optimizer in OSTOptimizer.swift).
///
/// The pair transforms a linear layer's input as `x' = (x / s) · R` and folds the inverse into the layer:
/// `W' = W · diag(s) · R` (`LinearLayer.scalingInput` then `rotatingInput`), so the float output is unchanged.
public struct OSTPair: Equatable, Sendable {
    public var rotation: Matrix
    public var scales: [Float]

    public init(rotation: Matrix, scales: [Float]) throws {
        guard rotation.rows == rotation.cols, scales.count == rotation.rows else {
            throw OnboardError.shape(item: "OST pair", reason: "\(rotation.rows) x \(rotation.cols) rotation with \(scales.count) scales")
        }
        guard scales.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw OnboardError.invalidArgument("OST pair scales must be positive and finite") }
        self.rotation = rotation
        self.scales = scales
    }

    /// `(x / s) · R` for activations [rows, d].
    public func transform(_ x: Matrix) throws -> Matrix {
        var scaled = x
        for r in 0..<x.rows { for c in 0..<x.cols { scaled[r, c] /= scales[c] } }
        return try scaled.multiplied(by: rotation)
    }

    public func fold(into layer: LinearLayer) throws -> LinearLayer {
        try layer.scalingInput(by: scales).rotatingInput(by: rotation)
    }

    /// Smoothing scales `std_j^alpha / max|W_j|^(1 - alpha)` (normalized to geometric mean 1) followed by the
    /// KLT-Hadamard rotation of the scaled activations: the closed-form start, near the QSUR optimum when
    /// alpha = 1, traded against the weights' range for smaller alpha.
    public static func initial(calibration x: Matrix, layer: LinearLayer, alpha: Float = 0.5) throws -> OSTPair {
        var accumulator = CovarianceAccumulator(channels: x.cols, item: "OST calibration")
        try accumulator.observe(x.values)
        let covariance = try accumulator.covariance()
        let weightMax = Smoothing.inputAbsMax(layer.weight)
        var s = (0..<x.cols).map { j -> Float in
            let std = max(covariance[j, j], 0).squareRoot()
            return std > 0 && weightMax[j] > 0 ? pow(std, alpha) / pow(weightMax[j], 1 - alpha) : 1
        }
        let logMean = s.map { log(Double($0)) }.reduce(0, +) / Double(s.count)
        s = s.map { Float(Double($0) / exp(logMean)) }
        var scaled = covariance
        for i in 0..<x.cols { for j in 0..<x.cols { scaled[i, j] /= s[i] * s[j] } }
        return try OSTPair(rotation: try KLTRotation.kltHadamard(scaled), scales: s)
    }
}
