import OnboardCore
import OnboardGraph

/// Builds the graph of a timm VisionTransformer (or DeiT) for a fixed batch size.
///
/// Input `pixel_values` [B, C, H, W]; outputs `logits` [B, num_classes] (the pooled features
/// when num_classes is 0) and, on request, `pre_logits` [B, D].
public enum ViTBuilder {
    public static func build(
        config: ViTConfig, weights: WeightStore, batch: Int, exposePreLogits: Bool = false
    ) throws -> Graph {
        let m = ModuleBuilder(graph: GraphBuilder(), weights: weights)
        let g = m.graph
        let d = config.embedDim
        let (gh, gw) = config.grid

        let pixels = try g.input("pixel_values", shape: [batch, config.inChans, config.imageSize[0], config.imageSize[1]])
        let patches = try m.conv2d("patch_embed.proj", pixels, out: d, kernel: config.patchSize,
                                   params: Conv2dParams(stride: config.patchSize),
                                   bias: weights.contains("patch_embed.proj.bias"))  // CLIP-style models have none
        let flat = try g.node(.reshape([batch, d, gh * gw]), [patches], name: "patch_embed.flatten")
        var x = try g.node(.permute([0, 2, 1]), [flat], name: "patch_embed.tokens")
        x = try embedPositions(config, m, x, batch: batch)
        if config.preNorm { x = try m.layerNorm("norm_pre", x, epsilon: config.layerNormEps) }
        for index in 0..<config.depth {
            x = try block(config, m, x, prefix: "blocks.\(index)", batch: batch)
        }
        if !config.fcNorm { x = try m.layerNorm("norm", x, epsilon: config.layerNormEps) }
        let logits = try head(config, m, x, batch: batch, exposePreLogits: exposePreLogits)
        g.markOutput(logits)
        try weights.finish()
        return try g.build()
    }

    /// timm `_pos_embed`: prefix tokens join before (or, with no_embed_class, after) the
    /// position embedding is added.
    private static func embedPositions(_ c: ViTConfig, _ m: ModuleBuilder, _ patches: ValueID, batch: Int) throws -> ValueID {
        let g = m.graph, d = c.embedDim
        var prefix: [ValueID] = []
        if c.classToken { prefix.append(try m.tokens("cls_token", count: 1, width: d, batch: batch)) }
        if c.distilled { prefix.append(try m.tokens("dist_token", count: 1, width: d, batch: batch)) }
        if c.regTokens > 0 { prefix.append(try m.tokens("reg_token", count: c.regTokens, width: d, batch: batch)) }
        let embedLength = c.noEmbedClass ? c.numPatches : c.numPatches + c.numPrefixTokens
        let position = try m.parameter("pos_embed", shape: [1, embedLength, d])
        if c.noEmbedClass {
            let placed = try g.node(.add, [patches, position], name: "pos_embed.add")
            return prefix.isEmpty ? placed : try g.node(.concat(axis: 1), prefix + [placed], name: "tokens")
        }
        let joined = prefix.isEmpty ? patches : try g.node(.concat(axis: 1), prefix + [patches], name: "tokens")
        return try g.node(.add, [joined, position], name: "pos_embed.add")
    }

    private static func block(_ c: ViTConfig, _ m: ModuleBuilder, _ x: ValueID, prefix: String, batch: Int) throws -> ValueID {
        let g = m.graph
        let attention = try attention(c, m, try m.layerNorm("\(prefix).norm1", x, epsilon: c.layerNormEps), prefix: "\(prefix).attn", batch: batch)
        let x1 = try g.node(.add, [x, try layerScale(c, m, attention, "\(prefix).ls1")], name: "\(prefix).residual1")
        let hidden = try m.linear("\(prefix).mlp.fc1", try m.layerNorm("\(prefix).norm2", x1, epsilon: c.layerNormEps), out: c.mlpHiddenDim)
        let activated = try g.node(.gelu(approximate: c.act == "gelu_tanh"), [hidden], name: "\(prefix).mlp.act")
        let mlp = try m.linear("\(prefix).mlp.fc2", activated, out: c.embedDim)
        return try g.node(.add, [x1, try layerScale(c, m, mlp, "\(prefix).ls2")], name: "\(prefix).residual2")
    }

    private static func layerScale(_ c: ViTConfig, _ m: ModuleBuilder, _ x: ValueID, _ module: String) throws -> ValueID {
        guard c.layerScale else { return x }
        return try m.graph.node(.mul, [x, try m.parameter("\(module).gamma", shape: [c.embedDim])], name: module)
    }

    /// Multi-head self-attention; the softmax scale 1/sqrt(head_dim) rides on the QKᵀ product.
    private static func attention(_ c: ViTConfig, _ m: ModuleBuilder, _ x: ValueID, prefix: String, batch: Int) throws -> ValueID {
        let g = m.graph, d = c.embedDim, h = c.numHeads, hd = c.headDim
        let t = g.shape(x)[1]
        let scale = 1 / Float(hd).squareRoot()
        let qkv = try m.linear("\(prefix).qkv", x, out: 3 * d, bias: c.qkvBias)
        let split = try g.node(.reshape([batch, t, 3, h, hd]), [qkv], name: "\(prefix).qkv.split")
        let heads = try g.node(.permute([2, 0, 3, 1, 4]), [split], name: "\(prefix).qkv.heads")
        func part(_ index: Int, _ name: String) throws -> ValueID {
            let sliced = try g.node(.slice(axis: 0, start: index, end: index + 1, step: 1), [heads], name: "\(prefix).\(name).slice")
            return try g.node(.reshape([batch, h, t, hd]), [sliced], name: "\(prefix).\(name)")
        }
        let q = try part(0, "q"), k = try part(1, "k"), v = try part(2, "v")
        let scores = try g.node(.matmul(transposeB: true, alpha: scale), [q, k], name: "\(prefix).scores")
        let probabilities = try g.node(.softmax, [scores], name: "\(prefix).softmax")
        let context = try g.node(.matmul(transposeB: false), [probabilities, v], name: "\(prefix).context")
        let merged = try g.node(.permute([0, 2, 1, 3]), [context], name: "\(prefix).merge")
        let flat = try g.node(.reshape([batch, t, d]), [merged], name: "\(prefix).merge.flat")
        return try m.linear("\(prefix).proj", flat, out: d)
    }

    /// timm `forward_head`: pool (class token or patch mean), fc_norm, head. DeiT averages the
    /// class and distillation tokens (pre-logits) and their two heads (eval mode).
    private static func head(_ c: ViTConfig, _ m: ModuleBuilder, _ x: ValueID, batch: Int, exposePreLogits: Bool) throws -> ValueID {
        let g = m.graph, d = c.embedDim
        let t = g.shape(x)[1]
        let preLogitsName = c.numClasses == 0 ? "logits" : "pre_logits"
        func token(_ index: Int, _ name: String) throws -> ValueID {
            let sliced = try g.node(.slice(axis: 1, start: index, end: index + 1, step: 1), [x], name: "\(name).slice")
            return try g.node(.reshape([batch, d]), [sliced], name: name)
        }
        func average(_ a: ValueID, _ b: ValueID, _ name: String) throws -> ValueID {
            try g.node(.scale(0.5), [try g.node(.add, [a, b], name: "\(name).sum")], name: name)
        }
        if c.distilled {
            let main = try token(0, "pool"), distillation = try token(1, "pool_dist")
            if c.numClasses == 0 || exposePreLogits {
                let pre = try average(main, distillation, preLogitsName)
                if c.numClasses == 0 { return pre }
                g.markOutput(pre)
            }
            return try average(try m.linear("head", main, out: c.numClasses),
                               try m.linear("head_dist", distillation, out: c.numClasses), "logits")
        }
        var pooled: ValueID
        if c.globalPool == "avg" {
            let patches = try g.node(.slice(axis: 1, start: c.numPrefixTokens, end: t, step: 1), [x], name: "pool.patches")
            pooled = try g.node(.reduceMean(axis: 1, keepDims: false), [patches], name: "pool")
        } else {
            pooled = try token(0, "pool")
        }
        if c.fcNorm { pooled = try m.layerNorm("fc_norm", pooled, epsilon: c.layerNormEps) }
        if c.numClasses == 0 || exposePreLogits {
            let pre = try g.node(.reshape([batch, d]), [pooled], name: preLogitsName)
            if c.numClasses == 0 { return pre }
            g.markOutput(pre)
        }
        let logits = try m.linear("head", pooled, out: c.numClasses)
        return try g.node(.reshape([batch, c.numClasses]), [logits], name: "logits")
    }
}
