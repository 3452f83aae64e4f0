import OnboardCore
import OnboardGraph

/// The PETR transformer decoder and its prediction branches (official `PETRTransformerDecoder`
/// with `return_intermediate=True`, `PETRTransformerDecoderLayer` with operation order
/// self_attn, norm, cross_attn, norm, ffn, norm; shared `cls_branches` / `reg_branches`).
///
/// Each attention is `nn.MultiheadAttention`: `in_proj` split into q/k/v linears, heads, the
/// 1/sqrt(head_dim) scale folded into the QKᵀ matmul, out_proj, and the residual (the query
/// before its position is added) inside. Positions go to queries and keys, never to values.
/// `post_norm` normalizes each layer's output for the branches; the un-normed target feeds the
/// next layer.
struct PETRDecoderBuilder {
    let module: ModuleBuilder
    let head: PETRConfig.Head
    let prefix: String

    init(module: ModuleBuilder, head: PETRConfig.Head, prefix: String) {
        self.module = module
        self.head = head
        self.prefix = prefix
    }

    private var g: GraphBuilder { module.graph }
    private var weights: WeightStore { module.weights }

    /// Weight and bias constants of a module applied at several places.
    private struct Affine {
        let weight: ValueID
        let bias: ValueID
    }

    /// Builds every layer; returns `cls_scores` [L, Q, C] and `bbox_raw` [L, Q, 10].
    func build(memory: ValueID, posEmbed: ValueID, queryPos: ValueID) throws -> (classes: ValueID, boxes: ValueID) {
        let e = head.embedDims, q = head.numQuery
        let key = try g.node(.add, [memory, posEmbed], name: "\(prefix).transformer.cross_key")
        var target = try g.constant("\(prefix).transformer.target", Tensor(zeros: [q, e]))
        let postNorm = try affine("\(prefix).transformer.decoder.post_norm", shape: [e])
        let classBranch = try branch("cls_branches", modules: [(0, [e, e]), (1, [e]), (3, [e, e]), (4, [e]), (6, [head.numClasses, e])])
        let regBranch = try branch("reg_branches", modules: [(0, [e, e]), (2, [e, e]), (4, [PETRConfig.Head.codeSize, e])])

        var classes: [ValueID] = [], boxes: [ValueID] = []
        for layer in 0..<head.numLayers {
            target = try decoderLayer(layer, target: target, key: key, memory: memory, queryPos: queryPos)
            let normed = try g.node(.layerNorm(epsilon: head.layerNormEps), [target, postNorm.weight, postNorm.bias],
                                    name: "\(prefix).transformer.decoder.post_norm.\(layer)")
            classes.append(try classifier(classBranch, normed, layer: layer))
            boxes.append(try regressor(regBranch, normed, layer: layer))
        }
        return (try stack(classes, name: "cls_scores"), try stack(boxes, name: "bbox_raw"))
    }

    private func decoderLayer(_ index: Int, target: ValueID, key: ValueID, memory: ValueID, queryPos: ValueID) throws -> ValueID {
        let p = "\(prefix).transformer.decoder.layers.\(index)"
        let selfQuery = try g.node(.add, [target, queryPos], name: "\(p).self_attn.query")
        var x = try attention("\(p).attentions.0", query: selfQuery, key: selfQuery, value: target, identity: target)
        x = try module.layerNorm("\(p).norms.0", x, epsilon: head.layerNormEps)
        let crossQuery = try g.node(.add, [x, queryPos], name: "\(p).cross_attn.query")
        x = try attention("\(p).attentions.1", query: crossQuery, key: key, value: memory, identity: x)
        x = try module.layerNorm("\(p).norms.1", x, epsilon: head.layerNormEps)
        var hidden = try module.linear("\(p).ffns.0.layers.0.0", x, out: head.ffnDims)
        hidden = try g.node(.relu, [hidden], name: "\(p).ffns.0.layers.0.1")
        let ffn = try module.linear("\(p).ffns.0.layers.1", hidden, out: head.embedDims)
        x = try g.node(.add, [x, ffn], name: "\(p).ffns.0.residual")
        return try module.layerNorm("\(p).norms.2", x, epsilon: head.layerNormEps)
    }

    /// `identity + MultiheadAttention(query, key, value)` (positions already in query and key).
    private func attention(_ path: String, query: ValueID, key: ValueID, value: ValueID, identity: ValueID) throws -> ValueID {
        let e = head.embedDims, heads = head.numHeads, hd = head.headDim
        let projections = try inProjection("\(path).attn")
        func project(_ x: ValueID, _ index: Int, _ part: String) throws -> ValueID {
            let rows = g.shape(x)[0]
            let name = "\(path).attn.\(part)"
            let linear = try g.node(.linear, [x, projections[index].weight, projections[index].bias], name: name)
            let split = try g.node(.reshape([rows, heads, hd]), [linear], name: "\(name).split")
            return try g.node(.permute([1, 0, 2]), [split], name: "\(name).heads")
        }
        let q = try project(query, 0, "q"), k = try project(key, 1, "k"), v = try project(value, 2, "v")
        let rows = g.shape(query)[0]
        let scores = try g.node(.matmul(transposeB: true, alpha: 1 / Float(hd).squareRoot()), [q, k], name: "\(path).attn.scores")
        let probabilities = try g.node(.softmax, [scores], name: "\(path).attn.softmax")
        let context = try g.node(.matmul(transposeB: false), [probabilities, v], name: "\(path).attn.context")
        let merged = try g.node(.permute([1, 0, 2]), [context], name: "\(path).attn.merge")
        let flat = try g.node(.reshape([rows, e]), [merged], name: "\(path).attn.merge.flat")
        let out = try module.linear("\(path).attn.out_proj", flat, out: e)
        return try g.node(.add, [identity, out], name: "\(path).residual")
    }

    /// `in_proj_weight` [3E, E] and `in_proj_bias` [3E] as q, k and v linears. Int8 codes of a
    /// quantized bundle keep their rows' scales; a part whose rows share one scale (per-tensor
    /// weights, stored one scale per row by `QuantizedBundle`) gets that one.
    private func inProjection(_ path: String) throws -> [Affine] {
        let e = head.embedDims
        let weightName = "\(path).in_proj_weight", biasName = "\(path).in_proj_bias"
        let weight = try weights.take(weightName, shape: [3 * e, e])
        let bias = try PETRBuilder.floatParameter(weights, biasName, shape: [3 * e])
        let scales = weights.scales[weightName]
        return try ["q", "k", "v"].enumerated().map { index, part in
            let rows = try Self.rows(weight, start: index * e, count: e)
            let rowScales = scales.map { all -> [Float] in
                guard all.count > 1 else { return all }
                let perPart = all.count / 3  // [3E] or [3E, groups], row-major: each part a third
                let mine = Array(all[(index * perPart)..<((index + 1) * perPart)])
                return mine.allSatisfy { $0 == mine[0] } ? [mine[0]] : mine
            }
            return Affine(weight: try g.constant("\(path).\(part)_proj.weight", rows, scales: rowScales),
                          bias: try g.constant("\(path).\(part)_proj.bias", try Self.rows(bias, start: index * e, count: e)))
        }
    }

    /// Rows `start ..< start + count` of a tensor (any element type), as a new tensor.
    private static func rows(_ tensor: Tensor, start: Int, count: Int) throws -> Tensor {
        let width = tensor.shape.dropFirst().reduce(1, *)
        let out = Tensor(zeros: [count] + tensor.shape.dropFirst(), dtype: tensor.dtype)
        let rowBytes = width * tensor.dtype.byteSize
        out.rawPointer.copyMemory(from: tensor.rawPointer + start * rowBytes, byteCount: count * rowBytes)
        return out
    }

    private func affine(_ path: String, shape: [Int]) throws -> Affine {
        Affine(weight: try module.parameter("\(path).weight", shape: shape),
               bias: try module.parameter("\(path).bias", shape: [shape[0]]))
    }

    /// The branch in effect: the last stored copy (`<name>.0 ... <name>.K-1`, official K = 6; loading
    /// a shared module leaves the last copy's values). The other copies are checked and set aside.
    private func branch(_ name: String, modules: [(index: Int, shape: [Int])]) throws -> [Int: Affine] {
        var copies = 0
        while weights.contains("\(prefix).\(name).\(copies).\(modules[0].index).weight") { copies += 1 }
        let last = max(copies - 1, 0)
        for copy in 0..<last {
            for (index, shape) in modules {
                _ = try weights.take("\(prefix).\(name).\(copy).\(index).weight", shape: shape)
                _ = try weights.take("\(prefix).\(name).\(copy).\(index).bias", shape: [shape[0]])
            }
        }
        var result: [Int: Affine] = [:]
        for (index, shape) in modules {
            result[index] = try affine("\(prefix).\(name).\(last).\(index)", shape: shape)
        }
        return result
    }

    /// cls branch: Linear, LayerNorm, ReLU, Linear, LayerNorm, ReLU, Linear -> [Q, num_classes].
    private func classifier(_ b: [Int: Affine], _ x: ValueID, layer: Int) throws -> ValueID {
        let p = "\(prefix).cls_branches.\(layer)"
        var y = x
        for (linear, norm) in [(0, 1), (3, 4)] {
            y = try apply(b, linear, y, "\(p).\(linear)")
            y = try g.node(.layerNorm(epsilon: head.layerNormEps), try operands(b, norm, y), name: "\(p).\(norm)")
            y = try g.node(.relu, [y], name: "\(p).\(norm + 1)")
        }
        return try apply(b, 6, y, "\(p).6")
    }

    /// reg branch: Linear, ReLU, Linear, ReLU, Linear -> [Q, 10].
    private func regressor(_ b: [Int: Affine], _ x: ValueID, layer: Int) throws -> ValueID {
        let p = "\(prefix).reg_branches.\(layer)"
        var y = x
        for linear in [0, 2] {
            y = try g.node(.relu, [try apply(b, linear, y, "\(p).\(linear)")], name: "\(p).\(linear + 1)")
        }
        return try apply(b, 4, y, "\(p).4")
    }

    private func operands(_ b: [Int: Affine], _ index: Int, _ x: ValueID) throws -> [ValueID] {
        guard let a = b[index] else { throw OnboardError.model(item: "\(prefix) branch", reason: "no module \(index)") }
        return [x, a.weight, a.bias]
    }

    private func apply(_ b: [Int: Affine], _ index: Int, _ x: ValueID, _ name: String) throws -> ValueID {
        try g.node(.linear, try operands(b, index, x), name: name)
    }

    /// Per-layer [Q, D] values -> [L, Q, D].
    private func stack(_ values: [ValueID], name: String) throws -> ValueID {
        let expanded = try values.enumerated().map { index, value in
            try g.node(.reshape([1] + g.shape(value)), [value], name: "\(name).\(index)")
        }
        return try g.node(.concat(axis: 0), expanded, name: name)
    }
}
