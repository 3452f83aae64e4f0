import Foundation
import OnboardCore

/// Per-channel smoothing scales that move activation outliers into the weights.
public enum Smoothing {
    /// Largest |x| per channel of row-major activations [rows, channels].
    public static func channelAbsMax(_ rows: [Float], channels: Int) throws -> [Float] {
        guard channels > 0, rows.count % channels == 0 else {
            throw OnboardError.shape(item: "activations", reason: "\(rows.count) values are not rows of \(channels)")
        }
        var m = [Float](repeating: 0, count: channels)
        for (i, v) in rows.enumerated() { m[i % channels] = max(m[i % channels], abs(v)) }
        return m
    }

    /// Largest |w| per input channel (column) of a weight [out, in].
    public static func inputAbsMax(_ weight: Matrix) -> [Float] {
        var m = [Float](repeating: 0, count: weight.cols)
        for r in 0..<weight.rows { for c in 0..<weight.cols { m[c] = max(m[c], abs(weight[r, c])) } }
        return m
    }

    /// SmoothQuant: `s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)`, clamped to >= `minimum` (MambaQuant
    /// clamps at 1e-2); a channel whose activation or weight is all zero keeps s = 1. Use as
    /// `x' = x / s`, `W' = W · diag(s)` (`LinearLayer.scalingInput`).
    public static func smoothQuantScales(activationMax: [Float], weightMax: [Float], alpha: Float = 0.5,
                                         minimum: Float = 1e-2) throws -> [Float] {
        guard activationMax.count == weightMax.count else {
            throw OnboardError.shape(item: "smoothing", reason: "\(activationMax.count) activation and \(weightMax.count) weight channels")
        }
        guard alpha >= 0, alpha <= 1 else { throw OnboardError.invalidArgument("smoothing alpha must be in [0, 1], got \(alpha)") }
        return zip(activationMax, weightMax).map { a, w in
            guard a > 0, w > 0, a.isFinite, w.isFinite else { return 1 }
            return max(pow(a, alpha) / pow(w, 1 - alpha), minimum)
        }
    }

    /// MambaQuant's scaled SiLU `x · sigmoid(s · x)`: with `z' = z / s`, `scaledSiLU(z', s) = SiLU(z) / s`,
    /// which lets a smoothing scale pass through the gate activation (smooth-fused rotation, S2).
    @inline(__always)
    public static func scaledSiLU(_ x: Float, scale s: Float) -> Float { x / (1 + exp(-s * x)) }

    /// Smooth-fused for a gated block `out = out_proj(y ⊙ SiLU(gate(x)))`: divides the gate rows by s,
    /// multiplies out_proj's input columns by s; evaluate the gate with `scaledSiLU(·, s)`. The out_proj
    /// input (the tensor that gets quantized) becomes `(y ⊙ SiLU(z)) / s`, its outlier channels tamed.
    public static func smoothFused(gate: LinearLayer, outProjection: LinearLayer, outProjectionInputMax: [Float],
                                   alpha: Float = 0.5) throws -> (gate: LinearLayer, outProjection: LinearLayer, scales: [Float]) {
        let s = try smoothQuantScales(activationMax: outProjectionInputMax,
                                      weightMax: inputAbsMax(outProjection.weight), alpha: alpha)
        return (try gate.scalingOutput(by: s), try outProjection.scalingInput(by: s), s)
    }
}
