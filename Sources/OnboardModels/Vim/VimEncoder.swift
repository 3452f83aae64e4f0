import OnboardCore
import OnboardGraph

/// Vim's trunk on images: patch embedding, the class token inserted at its index, the absolute
/// position embedding, the layers (residual + RMSNorm + bimamba v2 mixer, the residual stream
/// kept apart as in the official fused add-norm) and the final RMSNorm. Names under `prefix`
/// are the checkpoint's (`patch_embed.proj`, `cls_token`, `pos_embed`, `layers.{i}`, `norm_f`).
enum VimEncoder {
    /// The final-norm tokens [B, patches + 1, D], the class token at `classTokenIndex`, and the
    /// patch grid [h, w].
    static func tokens(_ c: VimLayerSpec, _ m: ModuleBuilder, _ pixels: ValueID, prefix: String) throws -> (tokens: ValueID, grid: [Int]) {
        let g = m.graph
        let shape = g.shape(pixels)
        guard shape.count == 4, shape[1] == c.inChans, shape[2] >= c.patchSize, shape[3] >= c.patchSize,
              (shape[2] - c.patchSize) % c.stride == 0, (shape[3] - c.patchSize) % c.stride == 0 else {
            throw OnboardError.shape(item: "\(prefix)input", reason: "expected [N, \(c.inChans), H, W] with H and W minus the patch size "
                                     + "\(c.patchSize) a multiple of the stride \(c.stride), got \(shape)")
        }
        let grid = c.grid(imageSize: [shape[2], shape[3]])
        var residual = try embed(c, m, pixels, batch: shape[0], grid: grid, prefix: prefix)
        var hidden: ValueID?
        // Block: residual = residual + hidden (the first block takes its input as the residual),
        // hidden = mixer(RMSNorm(residual)).
        for index in 0..<c.depth {
            let layer = "\(prefix)layers.\(index)"
            if let hidden { residual = try g.node(.add, [residual, hidden], name: "\(layer).residual") }
            hidden = try VimMixer.mixer(c, m, try rmsNorm(c, m, "\(layer).norm", residual), prefix: "\(layer).mixer")
        }
        let last = try hidden.map { try g.node(.add, [residual, $0], name: "\(prefix)norm_f.residual") } ?? residual
        return (try rmsNorm(c, m, "\(prefix)norm_f", last), grid)
    }

    private static func embed(_ c: VimLayerSpec, _ m: ModuleBuilder, _ pixels: ValueID, batch: Int, grid: [Int], prefix: String) throws -> ValueID {
        let g = m.graph, d = c.embedDim, patches = grid[0] * grid[1], position = c.classTokenIndex(patches: patches)
        let projected = try m.conv2d("\(prefix)patch_embed.proj", pixels, out: d, kernel: c.patchSize, params: Conv2dParams(stride: c.stride))
        let flat = try g.node(.reshape([batch, d, patches]), [projected], name: "\(prefix)patch_embed.flatten")
        let tokens = try g.node(.permute([0, 2, 1]), [flat], name: "\(prefix)patch_embed.tokens")
        var parts: [ValueID] = []
        if position > 0 {
            parts.append(try g.node(.slice(axis: 1, start: 0, end: position, step: 1), [tokens], name: "\(prefix)tokens.before_cls"))
        }
        parts.append(try m.tokens("\(prefix)cls_token", count: 1, width: d, batch: batch))
        if position < patches {
            parts.append(try g.node(.slice(axis: 1, start: position, end: patches, step: 1), [tokens], name: "\(prefix)tokens.after_cls"))
        }
        let joined = try g.node(.concat(axis: 1), parts, name: "\(prefix)tokens")
        let positions = try m.parameter("\(prefix)pos_embed", shape: [1, patches + 1, d])
        return try g.node(.add, [joined, positions], name: "\(prefix)pos_embed.add")
    }

    private static func rmsNorm(_ c: VimLayerSpec, _ m: ModuleBuilder, _ module: String, _ x: ValueID) throws -> ValueID {
        try m.graph.node(.rmsNorm(epsilon: c.normEps), [x, try m.parameter("\(module).weight", shape: [c.embedDim])], name: module)
    }
}
