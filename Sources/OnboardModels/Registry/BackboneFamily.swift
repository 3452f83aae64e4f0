import OnboardGraph

/// An image backbone family a detector's `config.json` selects with `"backbone": {"type": ...}`:
/// its config type (the fields beside `type`) and what detectors ask of it. Registered in
/// `ModelRegistry.backbones`; `BackboneConfig` holds one.
public protocol BackboneFamily: Codable, Sendable, Equatable {
    /// The `backbone.type` string of `config.json` ("vit", "resnet", "vovnet").
    static var configName: String { get }
    /// Channels of the images it takes.
    var imageChannels: Int { get }
    /// Channels of each output feature, in order.
    var featureChannels: [Int] { get }
    /// Nominal stride of each output feature (exact when the input size is a multiple of it).
    var featureStrides: [Int] { get }
    /// Spatial size [h, w] of the first output feature for an input of [height, width], exactly
    /// as the layers compute it.
    func featureSize(imageSize: [Int]) -> [Int]
    /// Rejects values the builder cannot honour; the error names `path` and `backbone.<field>`.
    func validate(path: String) throws
    /// Every output feature of `images` [N, C, H, W], in order, with the weights under `prefix`.
    func buildFeatures(_ images: ValueID, module: ModuleBuilder, prefix: String) throws -> [ValueID]
}
