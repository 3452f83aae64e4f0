import OnboardCore

/// What Vim's embedding and layers need to know (shared by the classifier and the detector's
/// feature backbone): the widths of the bimamba v2 mixer, the RMSNorm epsilon, the patch
/// embedding and where the class token sits.
struct VimLayerSpec {
    var inChans: Int
    var patchSize: Int
    var stride: Int
    var embedDim: Int
    var depth: Int
    var dState: Int
    var dConv: Int
    var expand: Int
    var dtRank: Int
    var normEps: Float
    var middleClsToken: Bool
    var divideOut: Bool

    /// Mamba's state sizes are small (16 in every Vim); this bounds the x_proj width arithmetic.
    static let largestState = 1 << 20

    /// The mixer's inner width (`d_inner = expand · embed_dim`).
    var innerDim: Int { expand * embedDim }

    /// `PatchEmbed.grid_size` of an image [H, W]: ((H - patch) / stride + 1, (W - patch) / stride + 1).
    func grid(imageSize: [Int]) -> [Int] { imageSize.map { ($0 - patchSize) / stride + 1 } }

    /// Where the class token is inserted among `patches` tokens (`use_middle_cls_token`: patches / 2).
    func classTokenIndex(patches: Int) -> Int { middleClsToken ? patches / 2 : 0 }

    /// Rejects widths the builder cannot honour; `fail(field, reason)` makes the error.
    func validate(_ fail: (String, String) -> OnboardError) throws {
        guard patchSize > 0 else { throw fail("patch_size", "\(patchSize) must be > 0") }
        guard stride > 0 else { throw fail("stride", "\(stride) must be > 0") }
        guard inChans > 0 else { throw fail("in_chans", "\(inChans) must be > 0") }
        guard embedDim > 0 else { throw fail("embed_dim", "\(embedDim) must be > 0") }
        guard depth >= 0 else { throw fail("depth", "\(depth) must be >= 0") }
        guard dState > 0, dState <= Self.largestState else { throw fail("d_state", "\(dState) must be in 1...\(Self.largestState)") }
        guard dConv > 0 else { throw fail("d_conv", "\(dConv) must be > 0") }
        guard expand > 0, !embedDim.multipliedReportingOverflow(by: expand).overflow else {
            throw fail("expand", "\(expand) must be > 0 and expand x embed_dim must fit")
        }
        guard dtRank > 0, !dtRank.addingReportingOverflow(2 * dState).overflow else { throw fail("dt_rank", "\(dtRank) must be > 0") }
        guard normEps.isFinite, normEps > 0 else { throw fail("norm_eps", "\(normEps) must be a finite number > 0") }
    }

    /// Throws unless the weights (f32) can be allocated; `item` prefixes the field names.
    func requireAllocatableWeights(item: String, path: String) throws {
        try MemoryLimit.requireAllocatable([embedDim, inChans, patchSize, patchSize], item: "\(item)patch_size", path: path)
        try MemoryLimit.requireAllocatable([2, innerDim, embedDim], item: "\(item)expand", path: path)
        try MemoryLimit.requireAllocatable([innerDim, dState], item: "\(item)d_state", path: path)
        try MemoryLimit.requireAllocatable([innerDim, dConv], item: "\(item)d_conv", path: path)
    }
}
