import OnboardCore

/// The image backbone of a detector, as written under `"backbone"` in a bundle's `config.json`:
/// `{"type": "vit" | "resnet" | "vovnet", ...fields of that type}`.
public struct BackboneConfig: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case vit, resnet, vovnet }

    public enum Spec: Sendable, Equatable {
        case vit(ViTFeatureConfig)
        case resnet(ResNetConfig)
        case vovnet(VoVNetConfig)
    }

    public var spec: Spec

    public init(_ spec: Spec) { self.spec = spec }

    public var type: Kind {
        switch spec {
        case .vit: return .vit
        case .resnet: return .resnet
        case .vovnet: return .vovnet
        }
    }

    enum CodingKeys: String, CodingKey { case type }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .type)
        switch Kind(rawValue: name) {
        case .vit: spec = .vit(try ViTFeatureConfig(from: decoder))
        case .resnet: spec = .resnet(try ResNetConfig(from: decoder))
        case .vovnet: spec = .vovnet(try VoVNetConfig(from: decoder))
        case nil:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "'\(name)' is not vit, resnet or vovnet")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        switch spec {
        case let .vit(v): try v.encode(to: encoder)
        case let .resnet(r): try r.encode(to: encoder)
        case let .vovnet(v): try v.encode(to: encoder)
        }
    }

    /// Rejects values the builders cannot honour; the error names `path` and `backbone.<field>`.
    public func validate(path: String) throws {
        switch spec {
        case let .vit(v): try v.validate(path: path)
        case let .resnet(r): try r.validate(path: path)
        case let .vovnet(v): try v.validate(path: path)
        }
    }
}

func backboneFieldError(_ path: String, _ field: String, _ reason: String) -> OnboardError {
    .format(path: path, item: "backbone.\(field)", reason: reason)
}

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
        guard layerNormEps > 0 else { throw fail("layer_norm_eps", "must be > 0") }
    }
}

/// An mmdet ResNet (v2 naming: conv1/bn1, layer{i}.{j}.conv{k}/bn{k}, downsample.{0,1}) with
/// frozen batch norms, folded into the convolutions when the graph is built.
///
/// Either `depth` (18, 34, 50, 101, 152) or a custom `block` ("basic" | "bottleneck") with `layers`.
public struct ResNetConfig: Codable, Sendable, Equatable {
    public enum Block: String, Codable, Sendable { case basic, bottleneck }

    public var depth: Int?
    public var block: Block?
    public var layers: [Int]?
    public var inChannels: Int
    public var stemChannels: Int
    public var baseChannels: Int
    public var outIndices: [Int]
    /// "pytorch": the stride is on the 3x3 conv of a bottleneck; "caffe": on the first 1x1 conv.
    public var style: String
    /// Stride of the first block of each stage (default 1, 2, 2, 2).
    public var strides: [Int]?
    /// Dilation of each stage (default 1).
    public var dilations: [Int]?
    public var frozenBNEps: Float
    /// mmdet `stage_with_dcn`: stages whose bottleneck 3x3 convs are DCNv2
    /// (`ModulatedDeformConv2dPack`, `conv2.conv_offset`), as in PETR's r50dcn configs.
    public var stageWithDCN: [Bool]?
    /// mmdet `dcn.deform_groups`.
    public var deformGroups: Int

    enum CodingKeys: String, CodingKey {
        case depth, block, layers, inChannels = "in_channels", stemChannels = "stem_channels", baseChannels = "base_channels"
        case outIndices = "out_indices", style, strides, dilations, frozenBNEps = "frozen_bn_eps"
        case stageWithDCN = "stage_with_dcn", deformGroups = "deform_groups"
    }

    public static let archSettings: [Int: (Block, [Int])] = [
        18: (.basic, [2, 2, 2, 2]), 34: (.basic, [3, 4, 6, 3]),
        50: (.bottleneck, [3, 4, 6, 3]), 101: (.bottleneck, [3, 4, 23, 3]), 152: (.bottleneck, [3, 8, 36, 3]),
    ]

    public init(depth: Int? = nil, block: Block? = nil, layers: [Int]? = nil, stemChannels: Int = 64, baseChannels: Int = 64,
                outIndices: [Int] = [3], style: String = "pytorch", frozenBNEps: Float = 1e-5, inChannels: Int = 3,
                stageWithDCN: [Bool]? = nil, deformGroups: Int = 1) {
        self.depth = depth
        self.block = block
        self.layers = layers
        self.inChannels = inChannels
        self.stemChannels = stemChannels
        self.baseChannels = baseChannels
        self.outIndices = outIndices
        self.style = style
        self.frozenBNEps = frozenBNEps
        self.stageWithDCN = stageWithDCN
        self.deformGroups = deformGroups
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        depth = try c.decodeIfPresent(Int.self, forKey: .depth)
        block = try c.decodeIfPresent(Block.self, forKey: .block)
        layers = try c.decodeIfPresent([Int].self, forKey: .layers)
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? 3
        baseChannels = try c.decodeIfPresent(Int.self, forKey: .baseChannels) ?? 64
        stemChannels = try c.decodeIfPresent(Int.self, forKey: .stemChannels) ?? baseChannels
        outIndices = try c.decodeIfPresent([Int].self, forKey: .outIndices) ?? [3]
        style = try c.decodeIfPresent(String.self, forKey: .style) ?? "pytorch"
        strides = try c.decodeIfPresent([Int].self, forKey: .strides)
        dilations = try c.decodeIfPresent([Int].self, forKey: .dilations)
        frozenBNEps = try c.decodeIfPresent(Float.self, forKey: .frozenBNEps) ?? 1e-5
        stageWithDCN = try c.decodeIfPresent([Bool].self, forKey: .stageWithDCN)
        deformGroups = try c.decodeIfPresent(Int.self, forKey: .deformGroups) ?? 1
    }

    /// Block type and blocks per stage.
    public var stages: (block: Block, layers: [Int]) {
        if let block, let layers { return (block, layers) }
        if let depth, let setting = Self.archSettings[depth] { return (block ?? setting.0, layers ?? setting.1) }
        return (block ?? .bottleneck, layers ?? [])
    }

    public var expansion: Int { stages.block == .bottleneck ? 4 : 1 }
    public var stageStrides: [Int] { strides ?? (0..<stages.layers.count).map { $0 == 0 ? 1 : 2 } }
    public var stageDilations: [Int] { dilations ?? Array(repeating: 1, count: stages.layers.count) }
    /// Whether stage i uses DCNv2.
    public func usesDCN(_ i: Int) -> Bool { stageWithDCN.map { i < $0.count && $0[i] } ?? false }
    /// Output channels of stage i.
    public func stageChannels(_ i: Int) -> Int { baseChannels * (1 << i) * expansion }

    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError { backboneFieldError(path, field, reason) }
        if let depth {
            guard Self.archSettings[depth] != nil else { throw fail("depth", "\(depth) is not 18, 34, 50, 101 or 152") }
        } else {
            guard block != nil else { throw fail("block", "needed (basic or bottleneck) when depth is absent") }
            guard layers != nil else { throw fail("layers", "needed (blocks per stage) when depth is absent") }
        }
        let layers = stages.layers
        guard (1...4).contains(layers.count), layers.allSatisfy({ $0 >= 1 }) else {
            throw fail("layers", "must list 1 to 4 stages of >= 1 blocks, got \(layers)")
        }
        guard inChannels > 0 else { throw fail("in_channels", "must be > 0") }
        guard stemChannels > 0 else { throw fail("stem_channels", "must be > 0") }
        guard baseChannels > 0 else { throw fail("base_channels", "must be > 0") }
        guard !outIndices.isEmpty, outIndices.allSatisfy({ (0..<layers.count).contains($0) }), outIndices == outIndices.sorted(),
              Set(outIndices).count == outIndices.count else {
            throw fail("out_indices", "must be increasing stage indices in 0..<\(layers.count), got \(outIndices)")
        }
        guard ["pytorch", "caffe"].contains(style) else { throw fail("style", "'\(style)' is not 'pytorch' or 'caffe'") }
        guard stageStrides.count == layers.count, stageStrides.allSatisfy({ $0 >= 1 }) else {
            throw fail("strides", "must give one stride >= 1 per stage (\(layers.count))")
        }
        guard stageDilations.count == layers.count, stageDilations.allSatisfy({ $0 >= 1 }) else {
            throw fail("dilations", "must give one dilation >= 1 per stage (\(layers.count))")
        }
        guard frozenBNEps > 0 else { throw fail("frozen_bn_eps", "must be > 0") }
        if let stageWithDCN {
            guard stageWithDCN.count == layers.count else {
                throw fail("stage_with_dcn", "must give one flag per stage (\(layers.count))")
            }
            guard !stageWithDCN.contains(true) || stages.block == .bottleneck else {
                throw fail("stage_with_dcn", "deformable convolutions need bottleneck blocks (mmdet)")
            }
        }
        guard deformGroups >= 1 else { throw fail("deform_groups", "must be >= 1") }
        for (i, dcn) in (stageWithDCN ?? []).enumerated() where dcn {
            guard (baseChannels << i) % deformGroups == 0 else {
                throw fail("deform_groups", "\(deformGroups) does not divide stage \(i + 1)'s \(baseChannels << i) channels")
            }
        }
    }
}

/// The VoVNet of PETR (`VoVNetCP`): a named spec ("V-99-eSE", ...) or `"spec": "custom"` with
/// every stage field given.
public struct VoVNetConfig: Codable, Sendable, Equatable {
    public struct StageSpec: Sendable, Equatable {
        public var stem: [Int]
        public var stageConv: [Int]
        public var stageOut: [Int]
        public var layersPerBlock: Int
        public var blocksPerStage: [Int]
        public var depthwise: Bool
    }

    public var spec: String
    public var outFeatures: [String]
    public var inChannels: Int
    public var bnEps: Float
    public var stemChannels: [Int]?
    public var stageConvChannels: [Int]?
    public var stageOutChannels: [Int]?
    public var layersPerBlock: Int?
    public var blocksPerStage: [Int]?
    public var depthwise: Bool?

    enum CodingKeys: String, CodingKey {
        case spec, outFeatures = "out_features", inChannels = "in_channels", bnEps = "bn_eps"
        case stemChannels = "stem_channels", stageConvChannels = "stage_conv_channels", stageOutChannels = "stage_out_channels"
        case layersPerBlock = "layers_per_block", blocksPerStage = "blocks_per_stage", depthwise
    }

    /// The official `_STAGE_SPECS` of vovnetcp.py.
    public static let namedSpecs: [String: StageSpec] = {
        let narrow = ([64, 80, 96, 112], [112, 256, 384, 512])
        let wide = ([128, 160, 192, 224], [256, 512, 768, 1024])
        return [
            "V-19-slim-dw-eSE": StageSpec(stem: [64, 64, 64], stageConv: narrow.0, stageOut: narrow.1, layersPerBlock: 3, blocksPerStage: [1, 1, 1, 1], depthwise: true),
            "V-19-dw-eSE": StageSpec(stem: [64, 64, 64], stageConv: wide.0, stageOut: wide.1, layersPerBlock: 3, blocksPerStage: [1, 1, 1, 1], depthwise: true),
            "V-19-slim-eSE": StageSpec(stem: [64, 64, 128], stageConv: narrow.0, stageOut: narrow.1, layersPerBlock: 3, blocksPerStage: [1, 1, 1, 1], depthwise: false),
            "V-19-eSE": StageSpec(stem: [64, 64, 128], stageConv: wide.0, stageOut: wide.1, layersPerBlock: 3, blocksPerStage: [1, 1, 1, 1], depthwise: false),
            "V-39-eSE": StageSpec(stem: [64, 64, 128], stageConv: wide.0, stageOut: wide.1, layersPerBlock: 5, blocksPerStage: [1, 1, 2, 2], depthwise: false),
            "V-57-eSE": StageSpec(stem: [64, 64, 128], stageConv: wide.0, stageOut: wide.1, layersPerBlock: 5, blocksPerStage: [1, 1, 4, 3], depthwise: false),
            "V-99-eSE": StageSpec(stem: [64, 64, 128], stageConv: wide.0, stageOut: wide.1, layersPerBlock: 5, blocksPerStage: [1, 3, 9, 3], depthwise: false),
        ]
    }()

    public static let featureNames = ["stem", "stage2", "stage3", "stage4", "stage5"]

    public init(spec: String, outFeatures: [String], bnEps: Float = 1e-5, inChannels: Int = 3) {
        self.spec = spec
        self.outFeatures = outFeatures
        self.inChannels = inChannels
        self.bnEps = bnEps
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spec = try c.decode(String.self, forKey: .spec)
        outFeatures = try c.decodeIfPresent([String].self, forKey: .outFeatures) ?? ["stage4", "stage5"]
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? 3
        bnEps = try c.decodeIfPresent(Float.self, forKey: .bnEps) ?? 1e-5
        stemChannels = try c.decodeIfPresent([Int].self, forKey: .stemChannels)
        stageConvChannels = try c.decodeIfPresent([Int].self, forKey: .stageConvChannels)
        stageOutChannels = try c.decodeIfPresent([Int].self, forKey: .stageOutChannels)
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock)
        blocksPerStage = try c.decodeIfPresent([Int].self, forKey: .blocksPerStage)
        depthwise = try c.decodeIfPresent(Bool.self, forKey: .depthwise)
    }

    /// The stage layout (a named spec, or the custom fields; call after `validate`).
    public var stageSpec: StageSpec {
        if let named = Self.namedSpecs[spec] { return named }
        return StageSpec(stem: stemChannels ?? [], stageConv: stageConvChannels ?? [], stageOut: stageOutChannels ?? [],
                         layersPerBlock: layersPerBlock ?? 0, blocksPerStage: blocksPerStage ?? [], depthwise: depthwise ?? false)
    }

    /// Channels of a feature ("stem", "stage2" ... "stage5").
    public func channels(of feature: String) -> Int {
        let s = stageSpec
        if feature == "stem" { return s.stem[2] }
        // Names outside featureNames never get here: validate() rejects them.
        guard let index = Self.featureNames.firstIndex(of: feature), index >= 1 else { return 0 }
        return s.stageOut[index - 1]
    }

    /// Stride of a feature: stem and stage2 4, then 8, 16, 32.
    public func stride(of feature: String) -> Int {
        let index = Self.featureNames.firstIndex(of: feature) ?? 0
        return index <= 1 ? 4 : 4 << (index - 1)
    }

    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError { backboneFieldError(path, field, reason) }
        let custom = [stemChannels != nil, stageConvChannels != nil, stageOutChannels != nil, layersPerBlock != nil,
                      blocksPerStage != nil, depthwise != nil]
        if Self.namedSpecs[spec] != nil {
            guard !custom.contains(true) else {
                throw fail("spec", "'\(spec)' is a named spec; stage fields are only allowed with \"spec\": \"custom\"")
            }
        } else {
            guard spec == "custom" else {
                throw fail("spec", "'\(spec)' is not one of \(Self.namedSpecs.keys.sorted().joined(separator: ", ")) or custom")
            }
            guard let stem = stemChannels, stem.count == 3, stem.allSatisfy({ $0 > 0 }) else {
                throw fail("stem_channels", "a custom spec needs 3 stem channel counts > 0")
            }
            guard let conv = stageConvChannels, conv.count == 4, conv.allSatisfy({ $0 > 0 }) else {
                throw fail("stage_conv_channels", "a custom spec needs 4 channel counts > 0")
            }
            guard let out = stageOutChannels, out.count == 4, out.allSatisfy({ $0 > 0 }) else {
                throw fail("stage_out_channels", "a custom spec needs 4 channel counts > 0")
            }
            guard let layers = layersPerBlock, layers >= 1 else { throw fail("layers_per_block", "a custom spec needs a count >= 1") }
            guard let blocks = blocksPerStage, blocks.count == 4, blocks.allSatisfy({ $0 >= 1 }) else {
                throw fail("blocks_per_stage", "a custom spec needs 4 counts >= 1")
            }
            _ = layers
            if depthwise == true {
                guard stem[1] == stem[0], stem[2] == stem[1] else {
                    throw fail("stem_channels", "a depthwise stem needs equal channel counts (the official dw convs need it)")
                }
            }
        }
        guard !outFeatures.isEmpty, outFeatures.allSatisfy(Self.featureNames.contains),
              outFeatures.compactMap({ Self.featureNames.firstIndex(of: $0) }) == outFeatures.compactMap({ Self.featureNames.firstIndex(of: $0) }).sorted(),
              Set(outFeatures).count == outFeatures.count else {
            throw fail("out_features", "must be increasing names among \(Self.featureNames.joined(separator: ", ")), got \(outFeatures)")
        }
        guard inChannels > 0 else { throw fail("in_channels", "must be > 0") }
        guard bnEps > 0 else { throw fail("bn_eps", "must be > 0") }
    }
}

/// PETR's `CPFPN` neck, as written under `"neck"` in `config.json`: lateral 1x1 convs (with
/// bias) on every input level, top-down nearest upsampling + add, and a 3x3 `fpn_conv` on
/// level 0 only. PETR uses level 0.
public struct NeckConfig: Codable, Sendable, Equatable {
    public var type: String
    public var inChannels: [Int]
    public var outChannels: Int
    public var numOuts: Int

    enum CodingKeys: String, CodingKey { case type, inChannels = "in_channels", outChannels = "out_channels", numOuts = "num_outs" }

    public init(inChannels: [Int], outChannels: Int, numOuts: Int? = nil) {
        type = "cpfpn"
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.numOuts = numOuts ?? inChannels.count
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        guard type == "cpfpn" else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "'\(type)' is not cpfpn")
        }
        inChannels = try c.decode([Int].self, forKey: .inChannels)
        outChannels = try c.decode(Int.self, forKey: .outChannels)
        numOuts = try c.decodeIfPresent(Int.self, forKey: .numOuts) ?? inChannels.count
    }

    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError { .format(path: path, item: "neck.\(field)", reason: reason) }
        guard type == "cpfpn" else { throw fail("type", "'\(type)' is not cpfpn") }
        guard !inChannels.isEmpty, inChannels.allSatisfy({ $0 > 0 }) else { throw fail("in_channels", "must list channel counts > 0") }
        guard outChannels > 0 else { throw fail("out_channels", "must be > 0") }
        guard numOuts >= inChannels.count else {
            throw fail("num_outs", "\(numOuts) is less than the \(inChannels.count) input levels")
        }
    }
}
