import OnboardCore
import OnboardQuant

/// QuaRot's and MambaQuant's R1 on a Vim trunk: the residual stream carried rotated, `x · R` for an
/// orthogonal R, with the same function in float. Each RMSNorm's weight is folded into the layer
/// that reads it (a norm without weight commutes with R, since |x · R| = |x|); the embedding
/// (patch projection, class token, position embedding) writes the rotated stream, every in_proj
/// reads it and every out_proj writes it, and the final norm's reader takes it back.
public enum VimRotation {
    public static func rotate(_ tensors: inout [String: Tensor], trunk t: VimTrunk, by r: Matrix) throws {
        let d = t.embedDim
        guard r.rows == d, r.cols == d else {
            throw OnboardError.shape(item: "rotation", reason: "\(r.rows)x\(r.cols) for a residual stream of \(d) channels")
        }
        let p = t.prefix
        // The patch projection as a Linear [D, C·p·p] with its bias: its output becomes y · R.
        let patch = try linear(tensors, "\(p)patch_embed.proj.weight", bias: "\(p)patch_embed.proj.bias").rotatingOutput(by: r)
        try store(patch, &tensors, "\(p)patch_embed.proj.weight", bias: "\(p)patch_embed.proj.bias")
        for name in ["\(p)cls_token", "\(p)pos_embed"] {
            let rows = try take(tensors, name)
            tensors[name] = try Tensor(shape: rows.shape, values: try Matrix(rows: rows.count / d, cols: d, values: rows.floats()).multiplied(by: r).values)
        }
        for index in 0..<t.depth {
            let layer = "\(p)layers.\(index)"
            try readRotated(&tensors, "\(layer).mixer.in_proj.weight", norm: "\(layer).norm.weight", by: r)
            try store(try linear(tensors, "\(layer).mixer.out_proj.weight").rotatingOutput(by: r), &tensors, "\(layer).mixer.out_proj.weight")
        }
        try readRotated(&tensors, t.consumer, norm: "\(p)norm_f.weight", by: r)
    }

    /// The reader `weight` of a norm takes the rotated, weightless norm's output: the norm's weight
    /// is folded into it and set to ones.
    private static func readRotated(_ tensors: inout [String: Tensor], _ weight: String, norm: String, by r: Matrix) throws {
        let gamma = try take(tensors, norm).floats()
        try store(try linear(tensors, weight).foldingNormAffine(gamma: gamma, beta: nil).rotatingInput(by: r), &tensors, weight)
        tensors[norm] = try Tensor(shape: [gamma.count], values: [Float](repeating: 1, count: gamma.count))
    }

    private static func take(_ tensors: [String: Tensor], _ name: String) throws -> Tensor {
        guard let tensor = tensors[name], tensor.dtype == .f32 else {
            throw OnboardError.format(path: "model.safetensors", item: name, reason: "missing or not float: the Vim rotation needs it")
        }
        return tensor
    }

    /// A weight [out, ...] (a Linear, or a convolution flattened to [out, in·k·k]) and its bias.
    private static func linear(_ tensors: [String: Tensor], _ weight: String, bias: String? = nil) throws -> LinearLayer {
        let w = try take(tensors, weight)
        guard let out = w.shape.first, out > 0 else { throw OnboardError.format(path: "model.safetensors", item: weight, reason: "empty weight") }
        return try LinearLayer(weight: try Matrix(rows: out, cols: w.count / out, values: w.floats()), bias: try bias.map { try take(tensors, $0).floats() })
    }

    private static func store(_ layer: LinearLayer, _ tensors: inout [String: Tensor], _ weight: String, bias: String? = nil) throws {
        tensors[weight] = try Tensor(shape: try take(tensors, weight).shape, values: layer.weight.values)
        if let bias, let values = layer.bias { tensors[bias] = try Tensor(shape: [values.count], values: values) }
    }
}
