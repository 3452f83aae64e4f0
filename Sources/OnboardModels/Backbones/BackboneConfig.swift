import OnboardCore

/// The image backbone of a detector, as written under `"backbone"` in a bundle's `config.json`:
/// `{"type": <a name in ModelRegistry.backbones>, ...fields of that family}`.
public struct BackboneConfig: Codable, Sendable, Equatable {
    /// The family's config: `ViTFeatureConfig`, `ResNetConfig`, `VoVNetConfig`, ...
    public var family: any BackboneFamily

    public init(_ family: any BackboneFamily) { self.family = family }

    /// The family's `type` string.
    public var type: String { Swift.type(of: family).configName }

    public init(from decoder: Decoder) throws {
        family = try ModelRegistry.backbones.familyNamedByType(in: decoder).init(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try encoder.encodeFamilyType(type)
        try family.encode(to: encoder)
    }

    public static func == (lhs: BackboneConfig, rhs: BackboneConfig) -> Bool {
        isSameFamilyConfig(lhs.family, rhs.family)
    }

    /// Rejects values the builders cannot honour; the error names `path` and `backbone.<field>`.
    public func validate(path: String) throws { try family.validate(path: path) }
}

func backboneFieldError(_ path: String, _ field: String, _ reason: String) -> OnboardError {
    .format(path: path, item: "backbone.\(field)", reason: reason)
}
