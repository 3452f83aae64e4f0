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
            x = try ViTBlocks.block(config.blockSpec, m, x, prefix: "blocks.\(index)")
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
