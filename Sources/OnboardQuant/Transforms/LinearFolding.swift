import OnboardCore

/// A linear layer `y = x · W^T + b` (PyTorch layout: weight [out, in]), with the algebra that folds
/// rotations and per-channel scales into it so a transformed network computes the same function.
///
/// Row-vector convention: a rotation R acts as `x' = x · R`, a scale s as `x' = x / s` (per channel).
public struct LinearLayer: Equatable, Sendable {
    public var weight: Matrix
    public var bias: [Float]?

    public init(weight: Matrix, bias: [Float]? = nil) throws {
        if let bias, bias.count != weight.rows {
            throw OnboardError.shape(item: "linear bias", reason: "\(bias.count) values for \(weight.rows) outputs")
        }
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.cols }
    public var outFeatures: Int { weight.rows }

    /// `x · W^T + b` for row-major input [rows, in].
    public func forward(_ x: Matrix) throws -> Matrix {
        var y = try x.multiplied(by: weight, transposeOther: true)
        if let bias { for r in 0..<y.rows { for c in 0..<y.cols { y[r, c] += bias[c] } } }
        return y
    }

    /// The layer that takes `x · R` instead of x: `W' = W · R` (R orthogonal).
    public func rotatingInput(by r: Matrix) throws -> LinearLayer {
        try LinearLayer(weight: try weight.multiplied(by: try square(r, inFeatures)), bias: bias)
    }

    /// `rotatingInput(by: hadamard.matrix)` in O(n log n) per row: each weight row becomes `w · R`.
    public func rotatingInput(by hadamard: Hadamard) throws -> LinearLayer {
        guard hadamard.size == inFeatures else {
            throw OnboardError.shape(item: "rotation", reason: "Hadamard of \(hadamard.size) for \(inFeatures) inputs")
        }
        var w = weight
        try hadamard.applyRows(&w.values)
        return try LinearLayer(weight: w, bias: bias)
    }

    /// The layer whose output is `y · R`: `W' = R^T · W`, `b' = b · R`.
    public func rotatingOutput(by r: Matrix) throws -> LinearLayer {
        let r = try square(r, outFeatures)
        let w = try r.multiplied(by: weight, transposeSelf: true)
        let b = try bias.map { try Matrix(rows: 1, cols: $0.count, values: $0).multiplied(by: r).values }
        return try LinearLayer(weight: w, bias: b)
    }

    /// The layer that takes `x / s` instead of x: input columns times s.
    public func scalingInput(by s: [Float]) throws -> LinearLayer {
        try check(s, inFeatures)
        var w = weight
        for r in 0..<w.rows { for c in 0..<w.cols { w[r, c] *= s[c] } }
        return try LinearLayer(weight: w, bias: bias)
    }

    /// The layer whose output is `y / s`: output rows and bias divided by s.
    public func scalingOutput(by s: [Float]) throws -> LinearLayer {
        try check(s, outFeatures)
        var w = weight
        for r in 0..<w.rows { for c in 0..<w.cols { w[r, c] /= s[r] } }
        return try LinearLayer(weight: w, bias: bias.map { zip($0, s).map { $0 / $1 } })
    }

    /// Absorbs a preceding normalization's affine `n ⊙ gamma + beta`: `W' = W · diag(gamma)`,
    /// `b' = b + W · beta`; the norm then runs without affine (the first step of QuaRot/MambaQuant/OSTQuant).
    public func foldingNormAffine(gamma: [Float], beta: [Float]?) throws -> LinearLayer {
        // A zero gamma (a channel the norm switches off) folds to a zero column: only finiteness matters here.
        guard gamma.count == inFeatures, gamma.allSatisfy(\.isFinite) else {
            throw OnboardError.shape(item: "norm affine", reason: "needs \(inFeatures) finite gammas, got \(gamma.count)")
        }
        var b = bias ?? [Float](repeating: 0, count: outFeatures)
        if let beta {
            try check(beta, inFeatures)
            let shift = try Matrix(rows: 1, cols: beta.count, values: beta).multiplied(by: weight, transposeOther: true).values
            b = zip(b, shift).map { $0 + $1 }
        }
        var w = weight
        for r in 0..<w.rows { for c in 0..<w.cols { w[r, c] *= gamma[c] } }
        return try LinearLayer(weight: w, bias: (bias == nil && beta == nil) ? nil : b)
    }

    private func square(_ r: Matrix, _ n: Int) throws -> Matrix {
        guard r.rows == n, r.cols == n else {
            throw OnboardError.shape(item: "rotation", reason: "\(r.rows) x \(r.cols) rotation for a \(n)-wide side")
        }
        return r
    }

    private func check(_ s: [Float], _ n: Int) throws {
        guard s.count == n else { throw OnboardError.shape(item: "scale", reason: "\(s.count) scales for \(n) channels") }
        if let bad = s.firstIndex(where: { !$0.isFinite || $0 == 0 }) {
            throw OnboardError.invalidArgument("scale \(bad) is \(s[bad]); folding needs finite non-zero scales")
        }
    }
}
