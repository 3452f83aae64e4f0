import OnboardCore
import OnboardGraph

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

extension ResNetConfig: BackboneFamily {
    public static let configName = "resnet"
    public var imageChannels: Int { inChannels }
    public var featureChannels: [Int] { outIndices.map(stageChannels) }
    public var featureStrides: [Int] { outIndices.map { i in 4 * stageStrides.prefix(i + 1).reduce(1, *) } }
    public func featureSize(imageSize: [Int]) -> [Int] { imageSize.map { ResNetBuilder.extent($0, self, stage: outIndices[0]) } }

    public func buildFeatures(_ images: ValueID, module: ModuleBuilder, prefix: String) throws -> [ValueID] {
        try ResNetBuilder.build(self, images, module: module, prefix: prefix)
    }
}
