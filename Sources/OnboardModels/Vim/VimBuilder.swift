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
        let (tokens, _) = try VimEncoder.tokens(config.layerSpec, m, pixels, prefix: "")
        let position = config.classTokenIndex
        let name = config.numClasses == 0 ? "logits" : "pre_logits"
        let sliced = try g.node(.slice(axis: 1, start: position, end: position + 1, step: 1), [tokens], name: "\(name).slice")
        let features = try g.node(.reshape([batch, config.embedDim]), [sliced], name: name)
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
}
