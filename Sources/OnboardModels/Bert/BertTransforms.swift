import Foundation
import OnboardCore
import OnboardQuant

/// Equivalent transforms of a post-LayerNorm BERT encoder, made as its graph is built, that move
/// activation outliers out of the tensors INT8 quantizes per tensor (SmoothQuant and OSTQuant's
/// smoothing, adapted: a post-LN output is both the next linears' input and the residual, so its
/// scale cannot fold into the norm alone).
///
/// - A LayerNorm output that feeds Linears through a smoothing vector s is computed twice: once as
///   it is, for the residual, and once with gamma / s and beta / s (same mean and variance), for the
///   Linears, whose weight columns take s. Both are exact; in an integer pipeline both are integer
///   LayerNorms, so no float op is added.
/// - S_ov: value outputs / s and the attention output projection's columns x s (attention mixes
///   tokens, not channels, so this is exact).
/// - R_qk and R_ov (OSTQuant's per-head rotations): one orthogonal head_dim x head_dim R on every
///   head of the query, key and value outputs. Q·Kᵀ is unchanged (R·Rᵀ = I), and the output
///   projection's input columns take R back, so both are exact.
/// - Residual smoothing: a residual sum LN(f(x) + x) is carried as f(x)/s + x/s (f's output rows
///   divided by s, x through a copy of its LayerNorm with gamma / s and beta / s) and multiplied by s
///   before the LayerNorm, so neither 8-bit operand is ranged by the outlier channels.
/// - An online Hadamard on FC2's input (QuaRot's and OSTQuant's on the down projection): the GELU
///   output is rotated by a `hadamard` op, a float island, and FC2's weight takes `W · R`.
public struct BertTransforms: Sendable, Equatable {
    public struct Layer: Sendable, Equatable {
        /// The Q, K, V input (the previous LayerNorm's output, or the embeddings' LayerNorm).
        public var attentionInput: [Float]?
        /// FC1's input (the attention block's LayerNorm output).
        public var ffnInput: [Float]?
        /// The value outputs / the output projection's input.
        public var valueOutput: [Float]?
        /// R_qk = R_ov, applied to each head of the query, key and value outputs.
        public var headRotation: Matrix?
        /// Whether FC2's input is rotated online by a Hadamard of the intermediate size.
        public var ffnOutputHadamard: Bool
        /// The residual smoothing of the attention block's sum and of the FFN's sum.
        public var attentionResidual: [Float]?
        public var ffnResidual: [Float]?

        public init(
            attentionInput: [Float]? = nil, ffnInput: [Float]? = nil, valueOutput: [Float]? = nil, headRotation: Matrix? = nil,
            ffnOutputHadamard: Bool = false
        ) {
            self.attentionInput = attentionInput
            self.ffnInput = ffnInput
            self.valueOutput = valueOutput
            self.headRotation = headRotation
            self.ffnOutputHadamard = ffnOutputHadamard
            attentionResidual = nil
            ffnResidual = nil
        }
    }

    public var layers: [Layer] {
        didSet { folded = FoldedWeights() }
    }
    /// The weights folded with these vectors, made once and reused by every graph built with them.
    private(set) var folded = FoldedWeights()

    public init(layers: [Layer]) { self.layers = layers }

    public static func == (a: BertTransforms, b: BertTransforms) -> Bool { a.layers == b.layers }

    /// Folded Linear weight and bias tensors by module name.
    typealias FoldedWeights = Memo<String, (weight: Tensor, bias: Tensor)>

    /// The name of the rotated copy of FC2's input in layer `prefix`.
    public static func rotatedFFNName(_ prefix: String) -> String { "\(prefix).intermediate.rotated" }

    /// The name of the copy of LayerNorm `module`'s output that a smoothed residual sum adds.
    public static func residualOperandName(_ module: String) -> String { "\(module).residual" }

    /// s_j = max(1, m_j / median(m)) from each channel's largest |value| of a residual sum: only the
    /// channels far above the typical range are divided.
    public static func residualSmoothing(maximum m: [Float]) -> [Float] {
        let sorted = m.filter { $0.isFinite }.sorted()
        guard !sorted.isEmpty else { return m.map { _ in 1 } }
        let median = sorted[sorted.count / 2]
        return m.map { value in
            guard median > 0, value.isFinite else { return 1 }
            return min(max(value / median, 1), 1e4)
        }
    }

    /// The name of the smoothed copy of LayerNorm `module`'s output.
    public static func smoothedName(_ module: String) -> String { "\(module).smoothed" }

    /// `rotation` repeated on the diagonal `heads` times: the rotation of every head at once.
    public static func perHead(_ rotation: Matrix, heads: Int) -> Matrix {
        let n = rotation.rows, size = n * heads
        var m = Matrix(zeros: size, size)
        for h in 0..<heads {
            for r in 0..<n { for c in 0..<n { m[h * n + r, h * n + c] = rotation[r, c] } }
        }
        return m
    }

    /// SmoothQuant's s_j = max|X_j|^alpha / max|W_j|^(1 - alpha), from a channel's activation
    /// absolute maximum and the largest weight magnitude in that input column over the consumers;
    /// channels with no signal keep 1.
    public static func smoothing(activationMax: [Float], weightMax: [Float], alpha: Float) -> [Float] {
        zip(activationMax, weightMax).map { a, w in
            guard a > 0, w > 0, a.isFinite, w.isFinite else { return 1 }
            let s = Float(pow(Double(a), Double(alpha)) / pow(Double(w), Double(1 - alpha)))
            return s.isFinite && s > 0 ? min(max(s, 1e-4), 1e4) : 1
        }
    }
}
