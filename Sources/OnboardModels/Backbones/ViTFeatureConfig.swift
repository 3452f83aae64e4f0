import OnboardCore
import OnboardGraph

/// A timm ViT used as a feature backbone (no class token, position embedding for the exact
/// patch grid of the input, output = final norm tokens as a map [N, D, h, w]).
public struct ViTFeatureConfig: Codable, Sendable, Equatable {
    public var patchSize: Int
    public var inChans: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpHiddenDim: Int
    public var qkvBias: Bool
    public var layerNormEps: Float
    public var act: String

    enum CodingKeys: String, CodingKey {
        case patchSize = "patch_size", inChans = "in_chans", embedDim = "embed_dim", depth, numHeads = "num_heads"
        case mlpHiddenDim = "mlp_hidden_dim", qkvBias = "qkv_bias", layerNormEps = "layer_norm_eps", act
    }

    public init(patchSize: Int, embedDim: Int, depth: Int, numHeads: Int, mlpHiddenDim: Int? = nil, qkvBias: Bool = true,
                layerNormEps: Float = 1e-6, act: String = "gelu", inChans: Int = 3) {
        self.patchSize = patchSize
        self.inChans = inChans
        self.embedDim = embedDim
        self.depth = depth
        self.numHeads = numHeads
        self.mlpHiddenDim = mlpHiddenDim ?? 4 * embedDim
        self.qkvBias = qkvBias
        self.layerNormEps = layerNormEps
        self.act = act
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        patchSize = try c.decode(Int.self, forKey: .patchSize)
        inChans = try c.decodeIfPresent(Int.self, forKey: .inChans) ?? 3
        embedDim = try c.decode(Int.self, forKey: .embedDim)
        depth = try c.decode(Int.self, forKey: .depth)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        mlpHiddenDim = try c.decodeIfPresent(Int.self, forKey: .mlpHiddenDim) ?? 4 * embedDim
        qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? true
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-6
        act = try c.decodeIfPresent(String.self, forKey: .act) ?? "gelu"
    }

    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError { backboneFieldError(path, field, reason) }
        guard patchSize > 0 else { throw fail("patch_size", "must be > 0") }
        guard inChans > 0 else { throw fail("in_chans", "must be > 0") }
        guard embedDim > 0 else { throw fail("embed_dim", "must be > 0") }
        guard numHeads > 0, embedDim % numHeads == 0 else { throw fail("num_heads", "\(numHeads) must divide embed_dim \(embedDim)") }
        guard depth >= 0 else { throw fail("depth", "must be >= 0") }
        guard mlpHiddenDim > 0 else { throw fail("mlp_hidden_dim", "must be > 0") }
        guard ["gelu", "gelu_tanh"].contains(act) else { throw fail("act", "'\(act)' is not 'gelu' or 'gelu_tanh'") }
        guard layerNormEps.isFinite, layerNormEps > 0 else { throw fail("layer_norm_eps", "must be a finite number > 0") }
        try MemoryLimit.requireAllocatable([embedDim, inChans, patchSize, patchSize], item: "backbone.patch_size", path: path)
        try MemoryLimit.requireAllocatable([mlpHiddenDim, embedDim], item: "backbone.mlp_hidden_dim", path: path)
    }
}

extension ViTFeatureConfig: BackboneFamily {
    public static let configName = "vit"
    public var imageChannels: Int { inChans }
    public var featureChannels: [Int] { [embedDim] }
    public var featureStrides: [Int] { [patchSize] }
    public func featureSize(imageSize: [Int]) -> [Int] { imageSize.map { $0 / patchSize } }

    public func buildFeatures(_ images: ValueID, module: ModuleBuilder, prefix: String) throws -> [ValueID] {
        [try ViTFeatureBuilder.build(self, images, module: module, prefix: prefix)]
    }
}
