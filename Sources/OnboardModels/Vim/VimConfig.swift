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
        let grid = layerSpec.grid(imageSize: imageSize)
        return (grid[0], grid[1])
    }

    public var numPatches: Int { grid.0 * grid.1 }
    /// Patches plus the class token.
    public var tokens: Int { numPatches + 1 }
    /// The mixer's inner width (`d_inner = expand · embed_dim`).
    public var innerDim: Int { expand * embedDim }
    /// Where the class token is inserted and read back.
    public var classTokenIndex: Int { layerSpec.classTokenIndex(patches: numPatches) }

    var layerSpec: VimLayerSpec {
        VimLayerSpec(inChans: inChans, patchSize: patchSize, stride: stride, embedDim: embedDim, depth: depth, dState: dState,
                     dConv: dConv, expand: expand, dtRank: dtRank, normEps: normEps, middleClsToken: middleClsToken,
                     divideOut: divideOut)
    }

    /// Rejects configurations the builder cannot honour, naming the field.
    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError {
            .format(path: path, item: field, reason: reason)
        }
        guard imageSize.count == 2, imageSize.allSatisfy({ $0 > 0 }) else { throw fail("image_size", "must be [H, W] > 0") }
        try layerSpec.validate(fail)
        guard imageSize.allSatisfy({ $0 >= patchSize }) else {
            throw fail("patch_size", "\(patchSize) must be > 0 and fit in the image size \(imageSize)")
        }
        guard imageSize.allSatisfy({ ($0 - patchSize) % stride == 0 }) else {
            throw fail("image_size", "\(imageSize) minus patch_size \(patchSize) must be a multiple of stride \(stride)")
        }
        guard numClasses >= 0 else { throw fail("num_classes", "\(numClasses) must be >= 0") }
        guard bimambaType == "v2" else { throw fail("bimamba_type", "'\(bimambaType)' is not 'v2'") }
        try requireAllocatable(batch: 1, path: path)
    }

    /// Throws unless the largest tensors of a batch of `batch` can be allocated: the input, the
    /// mixer's [tokens, 2·inner] projection, its x_proj output and the weights (all f32).
    public func requireAllocatable(batch: Int, path: String) throws {
        try MemoryLimit.requireAllocatable([batch, inChans, imageSize[0], imageSize[1]], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([batch, tokens, 2, innerDim], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([batch, tokens, dtRank + 2 * dState], item: "d_state", path: path)
        try layerSpec.requireAllocatableWeights(item: "", path: path)
        try MemoryLimit.requireAllocatable([tokens, embedDim], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([max(numClasses, 1), embedDim], item: "num_classes", path: path)
    }
}
