import OnboardCore

/// Where a Vim trunk sits in a bundle: its tensor prefix, its depth and width, and the weight that
/// reads its final norm (the classifier's head, or a detector's first layer on the features).
public struct VimTrunk: Sendable, Equatable {
    /// Prefix of the trunk's tensors ("" in a classifier, "img_backbone." in a detector).
    public var prefix: String
    public var depth: Int
    public var embedDim: Int
    /// The weight [out, embed_dim, ...] of the layer that reads the final norm's output.
    public var consumer: String
    /// The two branches' sum is halved before out_proj.
    public var divideOut: Bool

    /// The graph value holding the residual stream that enters the last layer's norm (the
    /// embedding when there is one layer), as `VimEncoder` names it.
    public var lastResidualValue: String {
        depth > 1 ? "\(prefix)layers.\(depth - 1).residual" : "\(prefix)pos_embed.add"
    }

    /// The graph value out_proj of `layer` reads, as `VimMixer` names it.
    public func outProjectionInput(layer: Int) -> String {
        "\(prefix)layers.\(layer).mixer.\(divideOut ? "divide_out" : "bidirectional")"
    }
}

extension ModelBundle {
    /// The Vim trunk of a Vim classifier or of a PETR detector with a Vim backbone; nil otherwise.
    public var vimTrunk: VimTrunk? {
        if let vim = model as? VimConfig, vim.numClasses > 0, vim.depth > 0 {
            return VimTrunk(prefix: "", depth: vim.depth, embedDim: vim.embedDim, consumer: "head.weight",
                            divideOut: vim.divideOut)
        }
        if let petr = model as? PETRConfig, let vim = petr.backbone?.family as? VimFeatureConfig, petr.neck == nil, vim.depth > 0 {
            return VimTrunk(prefix: "img_backbone.", depth: vim.depth, embedDim: vim.embedDim, consumer: "pts_bbox_head.input_proj.weight",
                            divideOut: vim.divideOut)
        }
        return nil
    }
}
