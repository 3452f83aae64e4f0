import Foundation
import OnboardCore

/// A Vision Mamba (hustvl/Vim `VisionMamba`, bimamba v2, RMSNorm, residual in fp32, absolute
/// position embedding, one class token) as written in a bundle's `config.json`. Every field is
/// required: `tools/export_vim.py` writes them all.
public struct VimConfig: Codable, Sendable, Equatable {
    public var imageSize: [Int]
    public var patchSize: Int
    public var stride: Int
    public var inChans: Int
    public var embedDim: Int
    public var depth: Int
    public var dState: Int
    public var dConv: Int
    public var expand: Int
    public var dtRank: Int
    public var numClasses: Int
    public var normEps: Float
    /// Only "v2" (a backward branch with its own conv, projections, A and D) is supported.
    public var bimambaType: String
    /// The class token sits at index patches / 2 (`use_middle_cls_token`), else at 0.
    public var middleClsToken: Bool
    /// The two branches' sum is halved before `out_proj` (`if_divide_out`).
    public var divideOut: Bool

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", patchSize = "patch_size", stride, inChans = "in_chans", embedDim = "embed_dim"
        case depth, dState = "d_state", dConv = "d_conv", expand, dtRank = "dt_rank", numClasses = "num_classes"
        case normEps = "norm_eps", bimambaType = "bimamba_type", middleClsToken = "middle_cls_token", divideOut = "divide_out"
    }

    /// `PatchEmbed.grid_size`: ((H - patch) / stride + 1, (W - patch) / stride + 1).
    public var grid: (Int, Int) {
        ((imageSize[0] - patchSize) / stride + 1, (imageSize[1] - patchSize) / stride + 1)
    }

    public var numPatches: Int { grid.0 * grid.1 }
    /// Mamba's state sizes are small (16 in every Vim); this bounds the x_proj width arithmetic.
    static let largestState = 1 << 20

    /// Patches plus the class token.
    public var tokens: Int { numPatches + 1 }
    /// The mixer's inner width (`d_inner = expand · embed_dim`).
    public var innerDim: Int { expand * embedDim }
    /// Where the class token is inserted and read back.
    public var classTokenIndex: Int { middleClsToken ? numPatches / 2 : 0 }

    /// Rejects configurations the builder cannot honour, naming the field.
    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError {
            .format(path: path, item: field, reason: reason)
        }
        guard imageSize.count == 2, imageSize.allSatisfy({ $0 > 0 }) else { throw fail("image_size", "must be [H, W] > 0") }
        guard patchSize > 0, imageSize.allSatisfy({ $0 >= patchSize }) else {
            throw fail("patch_size", "\(patchSize) must be > 0 and fit in the image size \(imageSize)")
        }
        guard stride > 0 else { throw fail("stride", "\(stride) must be > 0") }
        guard imageSize.allSatisfy({ ($0 - patchSize) % stride == 0 }) else {
            throw fail("image_size", "\(imageSize) minus patch_size \(patchSize) must be a multiple of stride \(stride)")
        }
        guard inChans > 0 else { throw fail("in_chans", "\(inChans) must be > 0") }
        guard embedDim > 0 else { throw fail("embed_dim", "\(embedDim) must be > 0") }
        guard depth >= 0 else { throw fail("depth", "\(depth) must be >= 0") }
        guard dState > 0, dState <= Self.largestState else { throw fail("d_state", "\(dState) must be in 1...\(Self.largestState)") }
        guard dConv > 0 else { throw fail("d_conv", "\(dConv) must be > 0") }
        guard expand > 0, !embedDim.multipliedReportingOverflow(by: expand).overflow else {
            throw fail("expand", "\(expand) must be > 0 and expand x embed_dim must fit")
        }
        guard dtRank > 0, !dtRank.addingReportingOverflow(2 * dState).overflow else { throw fail("dt_rank", "\(dtRank) must be > 0") }
        guard numClasses >= 0 else { throw fail("num_classes", "\(numClasses) must be >= 0") }
        guard normEps.isFinite, normEps > 0 else { throw fail("norm_eps", "\(normEps) must be a finite number > 0") }
        guard bimambaType == "v2" else { throw fail("bimamba_type", "'\(bimambaType)' is not 'v2'") }
        try requireAllocatable(batch: 1, path: path)
    }

    /// Throws unless the largest tensors of a batch of `batch` can be allocated: the input, the
    /// mixer's [tokens, 2·inner] projection, its x_proj output and the weights (all f32).
    public func requireAllocatable(batch: Int, path: String) throws {
        try MemoryLimit.requireAllocatable([batch, inChans, imageSize[0], imageSize[1]], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([batch, tokens, 2, innerDim], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([batch, tokens, dtRank + 2 * dState], item: "d_state", path: path)
        try MemoryLimit.requireAllocatable([embedDim, inChans, patchSize, patchSize], item: "patch_size", path: path)
        try MemoryLimit.requireAllocatable([2, innerDim, embedDim], item: "expand", path: path)
        try MemoryLimit.requireAllocatable([innerDim, dState], item: "d_state", path: path)
        try MemoryLimit.requireAllocatable([innerDim, dConv], item: "d_conv", path: path)
        try MemoryLimit.requireAllocatable([tokens, embedDim], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([max(numClasses, 1), embedDim], item: "num_classes", path: path)
    }
}
