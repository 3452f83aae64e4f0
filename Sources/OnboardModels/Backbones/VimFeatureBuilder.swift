import OnboardCore
import OnboardGraph

/// Vim as a dense feature backbone: the trunk of the classifier (`VimEncoder`) on the input's
/// patch grid, the class token dropped, the patch tokens as a map [N, D, h, w].
enum VimFeatureBuilder {
    static func build(_ c: VimFeatureConfig, _ images: ValueID, module m: ModuleBuilder, prefix: String) throws -> ValueID {
        let g = m.graph, d = c.embedDim
        let (tokens, grid) = try VimEncoder.tokens(c.layerSpec, m, images, prefix: "\(prefix).")
        let batch = g.shape(images)[0], patches = grid[0] * grid[1]
        let position = c.layerSpec.classTokenIndex(patches: patches)
        var parts: [ValueID] = []
        if position > 0 {
            parts.append(try g.node(.slice(axis: 1, start: 0, end: position, step: 1), [tokens], name: "\(prefix).features.before_cls"))
        }
        if position < patches {
            parts.append(try g.node(.slice(axis: 1, start: position + 1, end: patches + 1, step: 1), [tokens],
                                    name: "\(prefix).features.after_cls"))
        }
        let patchTokens = parts.count == 1 ? parts[0] : try g.node(.concat(axis: 1), parts, name: "\(prefix).features.tokens")
        let channels = try g.node(.permute([0, 2, 1]), [patchTokens], name: "\(prefix).features.channels")
        return try g.node(.reshape([batch, d, grid[0], grid[1]]), [channels], name: "\(prefix).features")
    }
}
