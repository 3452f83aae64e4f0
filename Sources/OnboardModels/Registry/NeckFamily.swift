import OnboardGraph

/// A neck family a detector's `config.json` selects with `"neck": {"type": ...}`: its config type
/// (the fields beside `type`) and what detectors ask of it. Registered in `ModelRegistry.necks`;
/// `NeckConfig` holds one.
public protocol NeckFamily: Codable, Sendable, Equatable {
    /// The `neck.type` string of `config.json` ("cpfpn").
    static var configName: String { get }
    /// Channels of each backbone output it takes, in order.
    var inChannels: [Int] { get }
    /// Channels of its level 0, the head's feature map (the size of the backbone's first output).
    var outChannels: Int { get }
    /// Rejects values the builder cannot honour; the error names `path` and `neck.<field>`.
    func validate(path: String) throws
    /// Its output levels, level 0 first, from the backbone's `levels`, with the weights under `prefix`.
    func build(_ levels: [ValueID], module: ModuleBuilder, prefix: String) throws -> [ValueID]
}
