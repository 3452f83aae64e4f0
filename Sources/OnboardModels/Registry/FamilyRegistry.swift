/// The families of one kind (model architectures, backbones, necks) that a `config.json` can
/// select, each under its config string, in registration order (the order messages list them in).
public struct FamilyRegistry<Family: Sendable>: Sendable {
    /// The registered families, in registration order.
    public let families: [Family]
    /// Each family's config string, in the same order.
    public let names: [String]

    /// - Parameter name: a family's config string (its `configName`); the first of equal names wins.
    public init(_ families: [Family], name: (Family) -> String) {
        self.families = families
        names = families.map(name)
    }

    /// The family registered under `name`, or nil.
    public func family(named name: String) -> Family? {
        names.firstIndex(of: name).map { families[$0] }
    }

    /// The names as alternatives for a message: "vit, resnet or vovnet".
    public var alternatives: String {
        guard let last = names.last else { return "nothing" }
        return names.count == 1 ? last : names.dropLast().joined(separator: ", ") + " or " + last
    }

    /// The family named by the `type` field of the object `decoder` reads; an unknown name is a
    /// decoding error on that field listing the registered names.
    func familyNamedByType(in decoder: Decoder) throws -> Family {
        let container = try decoder.container(keyedBy: FamilyTypeKey.self)
        let name = try container.decode(String.self, forKey: .type)
        guard let family = family(named: name) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "'\(name)' is not \(alternatives)")
        }
        return family
    }
}

/// The field that selects a backbone or neck family in `config.json`.
enum FamilyTypeKey: String, CodingKey { case type }

extension Encoder {
    /// Writes `name` as the `type` field of the object being encoded.
    func encodeFamilyType(_ name: String) throws {
        var container = container(keyedBy: FamilyTypeKey.self)
        try container.encode(name, forKey: .type)
    }
}

/// Whether `other` is a config of the same family as `config`, with equal fields.
func isSameFamilyConfig<Config: Equatable>(_ config: Config, _ other: Any) -> Bool {
    (other as? Config) == config
}
