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
        try rewrite(&tensors, "\(p)patch_embed.proj.weight") { try rotatingRows($0, by: r) }
        for name in ["\(p)patch_embed.proj.bias", "\(p)cls_token", "\(p)pos_embed"] {
            try rewrite(&tensors, name) { try rotatingColumns($0, by: r) }
        }
        for index in 0..<t.depth {
            let layer = "\(p)layers.\(index)"
            let gamma = try take(tensors, "\(layer).norm.weight").floats()
            try rewrite(&tensors, "\(layer).mixer.in_proj.weight") { try rotatingColumns(try scalingColumns($0, by: gamma), by: r) }
            try rewrite(&tensors, "\(layer).mixer.out_proj.weight") { try rotatingRows($0, by: r) }
            tensors["\(layer).norm.weight"] = try Tensor(shape: [d], values: [Float](repeating: 1, count: d))
        }
        let gamma = try take(tensors, "\(p)norm_f.weight").floats()
        try rewrite(&tensors, t.consumer) { try rotatingColumns(try scalingColumns($0, by: gamma), by: r) }
        tensors["\(p)norm_f.weight"] = try Tensor(shape: [d], values: [Float](repeating: 1, count: d))
    }

    private static func take(_ tensors: [String: Tensor], _ name: String) throws -> Tensor {
        guard let tensor = tensors[name], tensor.dtype == .f32 else {
            throw OnboardError.format(path: "model.safetensors", item: name, reason: "missing or not float: the Vim rotation needs it")
        }
        return tensor
    }

    private static func rewrite(_ tensors: inout [String: Tensor], _ name: String, _ transform: (Tensor) throws -> Tensor) throws {
        tensors[name] = try transform(try take(tensors, name))
    }

    /// Rows of [d, ...] as the matrix [d, rest] times on the left by R^T: the layer's output becomes y · R.
    private static func rotatingRows(_ w: Tensor, by r: Matrix) throws -> Tensor {
        let rest = w.count / r.rows
        let m = try Matrix(rows: r.rows, cols: rest, values: w.floats())
        return try Tensor(shape: w.shape, values: try r.multiplied(by: m, transposeSelf: true).values)
    }

    /// Rows of d (the last axis, or a 1x1 convolution's input axis) times R: a weight [out, d] then
    /// reads x · R as it read x, and a vector x becomes x · R.
    private static func rotatingColumns(_ w: Tensor, by r: Matrix) throws -> Tensor {
        let m = try Matrix(rows: w.count / r.rows, cols: r.rows, values: try rowsOf(w, d: r.rows))
        return try Tensor(shape: w.shape, values: try m.multiplied(by: r).values)
    }

    /// Each column j of the d axis times gamma[j].
    private static func scalingColumns(_ w: Tensor, by gamma: [Float]) throws -> Tensor {
        var values = try rowsOf(w, d: gamma.count)
        for i in values.indices { values[i] *= gamma[i % gamma.count] }
        return try Tensor(shape: w.shape, values: values)
    }

    /// The values of [..., d] or of a 1x1 convolution [out, d, 1, 1], which lie as rows of d.
    private static func rowsOf(_ w: Tensor, d: Int) throws -> [Float] {
        let axes = w.shape.count == 4 && w.shape[2] == 1 && w.shape[3] == 1 ? Array(w.shape.prefix(2)) : w.shape
        guard axes.last == d else { throw OnboardError.shape(item: "rotation", reason: "weight \(w.shape) does not read \(d) channels") }
        return w.floats()
    }
}
