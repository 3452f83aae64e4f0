import OnboardCore

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
