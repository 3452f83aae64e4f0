import OnboardCore
import OnboardGraph

/// Builds the graph of a hustvl/Vim `VisionMamba` (eval mode) for a fixed batch size, with the
/// checkpoint's tensor names.
///
/// Input `pixel_values` [B, C, H, W]; output `logits` [B, num_classes] (the class token's
/// features when num_classes is 0) and, on request, `pre_logits` [B, D].
public enum VimBuilder {
    public static func build(
        config: VimConfig, weights: WeightStore, batch: Int, exposePreLogits: Bool = false
    ) throws -> Graph {
        let m = ModuleBuilder(graph: GraphBuilder(), weights: weights)
        let g = m.graph
        let pixels = try g.input("pixel_values", shape: [batch, config.inChans, config.imageSize[0], config.imageSize[1]])
        var residual = try embed(config, m, pixels, batch: batch)
        var hidden: ValueID?
        // Block: residual = residual + hidden (the first block takes its input as the residual),
        // hidden = mixer(RMSNorm(residual)).
        for index in 0..<config.depth {
            let prefix = "layers.\(index)"
            if let hidden { residual = try g.node(.add, [residual, hidden], name: "\(prefix).residual") }
            let normed = try rmsNorm(config, m, "\(prefix).norm", residual)
            hidden = try VimMixer.mixer(config, m, normed, prefix: "\(prefix).mixer")
        }
        let last = try hidden.map { try g.node(.add, [residual, $0], name: "norm_f.residual") } ?? residual
        let features = try classToken(config, m, try rmsNorm(config, m, "norm_f", last), batch: batch,
                                      name: config.numClasses == 0 ? "logits" : "pre_logits")
        if config.numClasses == 0 {
            g.markOutput(features)
        } else {
            if exposePreLogits { g.markOutput(features) }
            let logits = try m.linear("head", features, out: config.numClasses)
            g.markOutput(try g.node(.reshape([batch, config.numClasses]), [logits], name: "logits"))
        }
        try weights.finish()
        return try g.build()
    }

    /// Patch embedding, the class token inserted at its index, the absolute position embedding.
    private static func embed(_ c: VimConfig, _ m: ModuleBuilder, _ pixels: ValueID, batch: Int) throws -> ValueID {
        let g = m.graph, d = c.embedDim, patches = c.numPatches, position = c.classTokenIndex
        let projected = try m.conv2d("patch_embed.proj", pixels, out: d, kernel: c.patchSize, params: Conv2dParams(stride: c.stride))
        let flat = try g.node(.reshape([batch, d, patches]), [projected], name: "patch_embed.flatten")
        let tokens = try g.node(.permute([0, 2, 1]), [flat], name: "patch_embed.tokens")
        var parts: [ValueID] = []
        if position > 0 {
            parts.append(try g.node(.slice(axis: 1, start: 0, end: position, step: 1), [tokens], name: "tokens.before_cls"))
        }
        parts.append(try m.tokens("cls_token", count: 1, width: d, batch: batch))
        if position < patches {
            parts.append(try g.node(.slice(axis: 1, start: position, end: patches, step: 1), [tokens], name: "tokens.after_cls"))
        }
        let joined = try g.node(.concat(axis: 1), parts, name: "tokens")
        return try g.node(.add, [joined, try m.parameter("pos_embed", shape: [1, c.tokens, d])], name: "pos_embed.add")
    }

    static func rmsNorm(_ c: VimConfig, _ m: ModuleBuilder, _ module: String, _ x: ValueID) throws -> ValueID {
        try m.graph.node(.rmsNorm(epsilon: c.normEps), [x, try m.parameter("\(module).weight", shape: [c.embedDim])], name: module)
    }

    private static func classToken(_ c: VimConfig, _ m: ModuleBuilder, _ x: ValueID, batch: Int, name: String) throws -> ValueID {
        let g = m.graph, position = c.classTokenIndex
        let sliced = try g.node(.slice(axis: 1, start: position, end: position + 1, step: 1), [x], name: "\(name).slice")
        return try g.node(.reshape([batch, c.embedDim]), [sliced], name: name)
    }
}
