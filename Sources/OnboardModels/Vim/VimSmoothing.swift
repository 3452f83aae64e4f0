import OnboardCore
import OnboardQuant

/// MambaQuant's smooth-fused SiLU (S2) on a Vim trunk's layers: out_proj's input y ⊙ SiLU(z) is
/// divided per channel by s (its outlier channels tamed before it is quantized) and out_proj's
/// columns are multiplied by s. The division rides on the gate: in_proj is split into its x and
/// z halves (`in_proj_states`, `in_proj_gates`, as MambaQuant splits it), the z rows are divided
/// by s, and both scans gate with MambaQuant's scaled SiLU z'·sigmoid(s·z') = SiLU(z) / s, so the
/// function is the same in float. The scales are stored as `layers.{i}.mixer.gate_scale`.
public enum VimSmoothing {
    /// SmoothQuant's scales for out_proj of `layer` from its input's per-channel |max|
    /// (`alpha` 0.5 and the floor 1e-2, as MambaQuant).
    public static func scales(_ tensors: [String: Tensor], trunk: VimTrunk, layer: Int, inputAbsMax: [Float]) throws -> [Float] {
        let w = try matrix(tensors, "\(trunk.prefix)layers.\(layer).mixer.out_proj.weight")
        return try Smoothing.smoothQuantScales(activationMax: inputAbsMax, weightMax: Smoothing.inputAbsMax(w))
    }

    public static func smooth(_ tensors: inout [String: Tensor], trunk: VimTrunk, layer: Int, scales s: [Float]) throws {
        let mixer = "\(trunk.prefix)layers.\(layer).mixer"
        guard tensors["\(mixer).gate_scale"] == nil else {
            throw OnboardError.format(path: "model.safetensors", item: "\(mixer).gate_scale", reason: "already smoothed")
        }
        let out = try LinearLayer(weight: try matrix(tensors, "\(mixer).out_proj.weight"))
        guard s.count == out.inFeatures, s.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw OnboardError.shape(item: "\(mixer) smoothing", reason: "needs \(out.inFeatures) positive scales, got \(s.count)")
        }
        let inner = s.count
        let inProj = try matrix(tensors, "\(mixer).in_proj.weight")
        guard inProj.rows == 2 * inner else {
            throw OnboardError.shape(item: "\(mixer).in_proj.weight", reason: "\(inProj.rows) rows for an inner width of \(inner)")
        }
        // MambaQuant's split: the gate half gets its own quantization steps once it is divided by s.
        let width = inProj.cols
        let states = Array(inProj.values[..<(inner * width)])
        let gates = try LinearLayer(weight: try Matrix(rows: inner, cols: width, values: Array(inProj.values[(inner * width)...])))
            .scalingOutput(by: s).weight
        tensors["\(mixer).in_proj.weight"] = nil
        tensors["\(mixer).in_proj_states.weight"] = try Tensor(shape: [inner, width], values: states)
        tensors["\(mixer).in_proj_gates.weight"] = try Tensor(shape: [inner, width], values: gates.values)
        let scaled = try out.scalingInput(by: s).weight
        tensors["\(mixer).out_proj.weight"] = try Tensor(shape: [scaled.rows, scaled.cols], values: scaled.values)
        tensors["\(mixer).gate_scale"] = try Tensor(shape: [inner], values: s)
    }

    private static func matrix(_ tensors: [String: Tensor], _ name: String) throws -> Matrix {
        guard let tensor = tensors[name], tensor.dtype == .f32, tensor.rank == 2 else {
            throw OnboardError.format(path: "model.safetensors", item: name, reason: "missing or not a float matrix: the smoothing needs it")
        }
        return try Matrix(rows: tensor.shape[0], cols: tensor.shape[1], values: tensor.floats())
    }
}
