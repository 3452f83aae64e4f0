/// The neck of a detector, as written under `"neck"` in a bundle's `config.json`:
/// `{"type": <a name in ModelRegistry.necks>, ...fields of that family}`.
public struct NeckConfig: Codable, Sendable, Equatable {
    /// The family's config: `CPFPNConfig`, ...
    public var family: any NeckFamily

    public init(_ family: any NeckFamily) { self.family = family }

    /// The family's `type` string.
    public var type: String { Swift.type(of: family).configName }

    public init(from decoder: Decoder) throws {
        family = try ModelRegistry.necks.familyNamedByType(in: decoder).init(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try encoder.encodeFamilyType(type)
        try family.encode(to: encoder)
    }

    public static func == (lhs: NeckConfig, rhs: NeckConfig) -> Bool {
        isSameFamilyConfig(lhs.family, rhs.family)
    }

    /// Rejects values the builder cannot honour; the error names `path` and `neck.<field>`.
    public func validate(path: String) throws { try family.validate(path: path) }
}
