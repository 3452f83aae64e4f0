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
