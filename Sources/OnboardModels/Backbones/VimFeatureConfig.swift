import OnboardCore
import OnboardGraph

/// A Vision Mamba (hustvl/Vim, bimamba v2) used as a feature backbone, `"backbone": {"type":
/// "vim", ...}`: the class token in the sequence as Vim has it (the middle one by default), a
/// position embedding for the exact patch grid of the input plus that token (`pos_embed`
/// [1, h*w + 1, D]); the output is the final-norm patch tokens as a map [N, D, h, w], the class
/// token dropped. Fields default to Vim's constructor (d_state 16, d_conv 4, expand 2, dt_rank
/// ceil(embed_dim / 16), stride = patch_size).
public struct VimFeatureConfig: Codable, Sendable, Equatable {
    public var patchSize: Int
    public var stride: Int
    public var inChans: Int
    public var embedDim: Int
    public var depth: Int
    public var dState: Int
    public var dConv: Int
    public var expand: Int
    public var dtRank: Int
    public var normEps: Float
    public var bimambaType: String
    public var middleClsToken: Bool
    public var divideOut: Bool

    enum CodingKeys: String, CodingKey {
        case patchSize = "patch_size", stride, inChans = "in_chans", embedDim = "embed_dim", depth, dState = "d_state"
        case dConv = "d_conv", expand, dtRank = "dt_rank", normEps = "norm_eps", bimambaType = "bimamba_type"
        case middleClsToken = "middle_cls_token", divideOut = "divide_out"
    }

    public init(patchSize: Int, embedDim: Int, depth: Int, stride: Int? = nil, dState: Int = 16, dConv: Int = 4, expand: Int = 2,
                dtRank: Int? = nil, normEps: Float = 1e-5, middleClsToken: Bool = true, divideOut: Bool = true, inChans: Int = 3) {
        self.patchSize = patchSize
        self.stride = stride ?? patchSize
        self.inChans = inChans
        self.embedDim = embedDim
        self.depth = depth
        self.dState = dState
        self.dConv = dConv
        self.expand = expand
        self.dtRank = dtRank ?? Self.defaultRank(embedDim)
        self.normEps = normEps
        self.bimambaType = "v2"
        self.middleClsToken = middleClsToken
        self.divideOut = divideOut
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        patchSize = try c.decode(Int.self, forKey: .patchSize)
        stride = try c.decodeIfPresent(Int.self, forKey: .stride) ?? patchSize
        inChans = try c.decodeIfPresent(Int.self, forKey: .inChans) ?? 3
        embedDim = try c.decode(Int.self, forKey: .embedDim)
        depth = try c.decode(Int.self, forKey: .depth)
        dState = try c.decodeIfPresent(Int.self, forKey: .dState) ?? 16
        dConv = try c.decodeIfPresent(Int.self, forKey: .dConv) ?? 4
        expand = try c.decodeIfPresent(Int.self, forKey: .expand) ?? 2
        dtRank = try c.decodeIfPresent(Int.self, forKey: .dtRank) ?? Self.defaultRank(embedDim)
        normEps = try c.decodeIfPresent(Float.self, forKey: .normEps) ?? 1e-5
        bimambaType = try c.decodeIfPresent(String.self, forKey: .bimambaType) ?? "v2"
        middleClsToken = try c.decodeIfPresent(Bool.self, forKey: .middleClsToken) ?? true
        divideOut = try c.decodeIfPresent(Bool.self, forKey: .divideOut) ?? true
    }

    /// Vim's `dt_rank="auto"`: ceil(embed_dim / 16).
    static func defaultRank(_ embedDim: Int) -> Int { embedDim / 16 + (embedDim % 16 == 0 ? 0 : 1) }

    var layerSpec: VimLayerSpec {
        VimLayerSpec(inChans: inChans, patchSize: patchSize, stride: stride, embedDim: embedDim, depth: depth, dState: dState,
                     dConv: dConv, expand: expand, dtRank: dtRank, normEps: normEps, middleClsToken: middleClsToken,
                     divideOut: divideOut)
    }

    public func validate(path: String) throws {
        try layerSpec.validate { backboneFieldError(path, $0, $1) }
        guard bimambaType == "v2" else { throw backboneFieldError(path, "bimamba_type", "'\(bimambaType)' is not 'v2'") }
        try layerSpec.requireAllocatableWeights(item: "backbone.", path: path)
    }
}

extension VimFeatureConfig: BackboneFamily {
    public static let configName = "vim"
    public var imageChannels: Int { inChans }
    public var featureChannels: [Int] { [embedDim] }
    public var featureStrides: [Int] { [stride] }
    public func featureSize(imageSize: [Int]) -> [Int] { layerSpec.grid(imageSize: imageSize) }

    public func buildFeatures(_ images: ValueID, module: ModuleBuilder, prefix: String) throws -> [ValueID] {
        [try VimFeatureBuilder.build(self, images, module: module, prefix: prefix)]
    }
}
