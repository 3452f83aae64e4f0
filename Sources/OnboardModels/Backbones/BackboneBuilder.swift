import OnboardCore
import OnboardGraph

/// Image backbones and necks of camera detectors, with the official checkpoint names:
/// the backbone's weights under `img_backbone.`, the neck's under `img_neck.`.
public enum BackboneBuilder {
    public static let backbonePrefix = "img_backbone"
    public static let neckPrefix = "img_neck"

    /// The feature map the detection head uses, [N, C, h, w]: the neck's level 0 (PETR:
    /// CPFPN level 0, stride 16), or, with no neck, the backbone's single output feature.
    public static func featureMap(backbone: BackboneConfig, neck: NeckConfig?, images: ValueID, module: ModuleBuilder) throws -> ValueID {
        try build(backbone: backbone, neck: neck, images: images, module: module).featureMap
    }

    /// The backbone's output features (`levels`) and the head's feature map (as `featureMap`).
    public static func build(
        backbone: BackboneConfig, neck: NeckConfig?, images: ValueID, module: ModuleBuilder
    ) throws -> (levels: [ValueID], featureMap: ValueID) {
        let levels = try features(backbone: backbone, images: images, module: module)
        guard let neck else {
            guard levels.count == 1 else {
                throw OnboardError.model(item: backbonePrefix, reason: "\(levels.count) output features and no neck: give the backbone one output or add a neck")
            }
            return (levels, levels[0])
        }
        return (levels, try neck.family.build(levels, module: module, prefix: neckPrefix)[0])
    }

    /// Every output feature of the backbone, in order (ResNet `out_indices`, VoVNet `out_features`).
    public static func features(backbone: BackboneConfig, images: ValueID, module: ModuleBuilder, prefix: String = backbonePrefix) throws -> [ValueID] {
        try backbone.family.buildFeatures(images, module: module, prefix: prefix)
    }

    /// Channels of each backbone output feature.
    public static func featureChannels(backbone: BackboneConfig) -> [Int] { backbone.family.featureChannels }

    /// Nominal stride of each backbone output feature (exact when the input size is a multiple of it).
    public static func featureStrides(backbone: BackboneConfig) -> [Int] { backbone.family.featureStrides }

    /// Channels of `featureMap`.
    public static func outputChannels(backbone: BackboneConfig, neck: NeckConfig?) -> Int {
        neck?.family.outChannels ?? featureChannels(backbone: backbone).first ?? 0
    }

    /// Nominal stride of `featureMap` (level 0).
    public static func stride(backbone: BackboneConfig, neck: NeckConfig?) -> Int {
        featureStrides(backbone: backbone).first ?? 1
    }

    /// Spatial size [h, w] of `featureMap` for an input of [height, width], exactly as the layers compute it.
    public static func featureSize(backbone: BackboneConfig, neck: NeckConfig?, imageSize: [Int]) -> [Int] {
        backbone.family.featureSize(imageSize: imageSize)
    }

    /// Checks each config and that they fit together (the neck's `in_channels` are the backbone's outputs).
    public static func validate(backbone: BackboneConfig, neck: NeckConfig?, path: String) throws {
        try backbone.validate(path: path)
        let channels = featureChannels(backbone: backbone)
        if let neck {
            try neck.validate(path: path)
            guard neck.family.inChannels == channels else {
                throw OnboardError.format(path: path, item: "neck.in_channels",
                                          reason: "\(neck.family.inChannels) differ from the backbone's output channels \(channels)")
            }
        } else if channels.count != 1 {
            throw OnboardError.format(path: path, item: "neck", reason: "the backbone has \(channels.count) outputs: a neck is needed (or one output)")
        }
    }
}
