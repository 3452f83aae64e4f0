import Foundation
import OnboardCore

/// A timm VisionTransformer / DeiT, as written in a bundle's `config.json`.
public struct ViTConfig: Codable, Sendable, Equatable {
    public var imageSize: [Int]
    public var patchSize: Int
    public var inChans: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpHiddenDim: Int
    public var numClasses: Int
    public var classToken: Bool
    public var regTokens: Int
    public var distilled: Bool
    public var noEmbedClass: Bool
    public var globalPool: String
    public var fcNorm: Bool
    public var preNorm: Bool
    public var layerScale: Bool
    public var qkvBias: Bool
    public var layerNormEps: Float
    public var act: String

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", patchSize = "patch_size", inChans = "in_chans", embedDim = "embed_dim"
        case depth, numHeads = "num_heads", mlpHiddenDim = "mlp_hidden_dim", numClasses = "num_classes"
        case classToken = "class_token", regTokens = "reg_tokens", distilled, noEmbedClass = "no_embed_class"
        case globalPool = "global_pool", fcNorm = "fc_norm", preNorm = "pre_norm", layerScale = "layer_scale"
        case qkvBias = "qkv_bias", layerNormEps = "layer_norm_eps", act
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decode([Int].self, forKey: .imageSize)
        patchSize = try c.decode(Int.self, forKey: .patchSize)
        inChans = try c.decodeIfPresent(Int.self, forKey: .inChans) ?? 3
        embedDim = try c.decode(Int.self, forKey: .embedDim)
        depth = try c.decode(Int.self, forKey: .depth)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        let (defaultHidden, overflow) = embedDim.multipliedReportingOverflow(by: 4)
        if overflow, !c.contains(.mlpHiddenDim) {
            throw DecodingError.dataCorruptedError(forKey: .embedDim, in: c, debugDescription: "\(embedDim) is too large")
        }
        mlpHiddenDim = try c.decodeIfPresent(Int.self, forKey: .mlpHiddenDim) ?? defaultHidden
        numClasses = try c.decodeIfPresent(Int.self, forKey: .numClasses) ?? 1000
        classToken = try c.decodeIfPresent(Bool.self, forKey: .classToken) ?? true
        regTokens = try c.decodeIfPresent(Int.self, forKey: .regTokens) ?? 0
        distilled = try c.decodeIfPresent(Bool.self, forKey: .distilled) ?? false
        noEmbedClass = try c.decodeIfPresent(Bool.self, forKey: .noEmbedClass) ?? false
        globalPool = try c.decodeIfPresent(String.self, forKey: .globalPool) ?? "token"
        fcNorm = try c.decodeIfPresent(Bool.self, forKey: .fcNorm) ?? false
        preNorm = try c.decodeIfPresent(Bool.self, forKey: .preNorm) ?? false
        layerScale = try c.decodeIfPresent(Bool.self, forKey: .layerScale) ?? false
        qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? true
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-6
        act = try c.decodeIfPresent(String.self, forKey: .act) ?? "gelu"
    }

    /// Grid of patches (rows, columns).
    public var grid: (Int, Int) { (imageSize[0] / patchSize, imageSize[1] / patchSize) }
    public var numPatches: Int { grid.0 * grid.1 }
    /// Tokens placed before the patches: class, distillation, register.
    public var numPrefixTokens: Int { (classToken ? 1 : 0) + (distilled ? 1 : 0) + regTokens }
    public var headDim: Int { embedDim / numHeads }

    /// Rejects configurations the builder cannot honour, naming the field.
    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError {
            .format(path: path, item: field, reason: reason)
        }
        guard imageSize.count == 2, imageSize.allSatisfy({ $0 > 0 }) else { throw fail("image_size", "must be [H, W] > 0") }
        guard patchSize > 0, imageSize[0] % patchSize == 0, imageSize[1] % patchSize == 0 else {
            throw fail("patch_size", "\(patchSize) must divide the image size \(imageSize)")
        }
        guard inChans > 0 else { throw fail("in_chans", "must be > 0") }
        guard embedDim > 0, numHeads > 0, embedDim % numHeads == 0 else {
            throw fail("num_heads", "\(numHeads) must divide embed_dim \(embedDim)")
        }
        guard depth >= 0 else { throw fail("depth", "\(depth) must be >= 0") }
        guard mlpHiddenDim > 0 else { throw fail("mlp_hidden_dim", "\(mlpHiddenDim) must be > 0") }
        guard numClasses >= 0 else { throw fail("num_classes", "\(numClasses) must be >= 0") }
        guard regTokens >= 0 else { throw fail("reg_tokens", "\(regTokens) must be >= 0") }
        guard ["token", "avg"].contains(globalPool) else { throw fail("global_pool", "'\(globalPool)' is not 'token' or 'avg'") }
        guard globalPool != "token" || classToken else { throw fail("global_pool", "'token' pooling needs a class token") }
        guard !distilled || classToken else { throw fail("distilled", "a distillation token needs a class token") }
        guard ["gelu", "gelu_tanh"].contains(act) else { throw fail("act", "'\(act)' is not 'gelu' or 'gelu_tanh'") }
        guard layerNormEps.isFinite, layerNormEps > 0 else { throw fail("layer_norm_eps", "\(layerNormEps) must be a finite number > 0") }
        try requireAllocatable(batch: 1, path: path)
    }

    /// Throws unless the largest tensors of a batch of `batch` can be allocated: the input, the
    /// token activations and one attention map (all f32).
    public func requireAllocatable(batch: Int, path: String) throws {
        try MemoryLimit.requireAllocatable([batch, inChans, imageSize[0], imageSize[1]], item: "image_size", path: path)
        let prefix = regTokens.addingReportingOverflow(2)
        guard !prefix.overflow, let tokens = MemoryLimit.product([grid.0, grid.1]).map({ $0 + prefix.partialValue }),
              tokens > 0 else {
            throw OnboardError.format(path: path, item: "reg_tokens", reason: "\(regTokens) register tokens overflow the token count")
        }
        try MemoryLimit.requireAllocatable([batch, tokens, max(embedDim, mlpHiddenDim)], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([batch, numHeads, tokens, tokens], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([embedDim, inChans, patchSize, patchSize], item: "patch_size", path: path)
        try MemoryLimit.requireAllocatable([mlpHiddenDim, embedDim], item: "mlp_hidden_dim", path: path)
        try MemoryLimit.requireAllocatable([max(numClasses, 1), embedDim], item: "num_classes", path: path)
    }
}
