import OnboardCore
import OnboardGraph

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

extension VoVNetConfig: BackboneFamily {
    public static let configName = "vovnet"
    public var imageChannels: Int { inChannels }
    public var featureChannels: [Int] { outFeatures.map(channels(of:)) }
    public var featureStrides: [Int] { outFeatures.map(stride(of:)) }
    public func featureSize(imageSize: [Int]) -> [Int] { imageSize.map { VoVNetBuilder.extent($0, feature: outFeatures[0]) } }

    public func buildFeatures(_ images: ValueID, module: ModuleBuilder, prefix: String) throws -> [ValueID] {
        try VoVNetBuilder.build(self, images, module: module, prefix: prefix)
    }
}
