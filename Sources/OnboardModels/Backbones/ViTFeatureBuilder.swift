import OnboardCore
import OnboardGraph

/// A timm ViT as a dense feature backbone: patch embedding, position embedding for the exact
/// patch grid of the input (`pos_embed` [1, h*w, D], no class token), the blocks, the final
/// norm; the tokens come back as a map [N, D, h, w].
enum ViTFeatureBuilder {
    static func build(_ c: ViTFeatureConfig, _ images: ValueID, module m: ModuleBuilder, prefix: String) throws -> ValueID {
        let g = m.graph, d = c.embedDim
        let shape = g.shape(images)
        guard shape.count == 4, shape[1] == c.inChans else {
            throw OnboardError.shape(item: "\(prefix) input", reason: "expected [N, \(c.inChans), H, W], got \(shape)")
        }
        guard shape[2] % c.patchSize == 0, shape[3] % c.patchSize == 0 else {
            throw OnboardError.shape(item: "\(prefix) input", reason: "image size \(shape[2])x\(shape[3]) is not a multiple of the patch size \(c.patchSize)")
        }
        let (batch, h, w) = (shape[0], shape[2] / c.patchSize, shape[3] / c.patchSize)
        let proj = "\(prefix).patch_embed.proj"
        let patches = try m.conv2d(proj, images, out: d, kernel: c.patchSize, params: Conv2dParams(stride: c.patchSize),
                                   bias: m.weights.contains("\(proj).bias"))
        let flat = try g.node(.reshape([batch, d, h * w]), [patches], name: "\(prefix).patch_embed.flatten")
        let tokens = try g.node(.permute([0, 2, 1]), [flat], name: "\(prefix).patch_embed.tokens")
        let position = try m.parameter("\(prefix).pos_embed", shape: [1, h * w, d])
        var x = try g.node(.add, [tokens, position], name: "\(prefix).pos_embed.add")
        for index in 0..<c.depth {
            x = try ViTBlocks.block(c.blockSpec, m, x, prefix: "\(prefix).blocks.\(index)")
        }
        x = try m.layerNorm("\(prefix).norm", x, epsilon: c.layerNormEps)
        let channels = try g.node(.permute([0, 2, 1]), [x], name: "\(prefix).features.channels")
        return try g.node(.reshape([batch, d, h, w]), [channels], name: "\(prefix).features")
    }
}
