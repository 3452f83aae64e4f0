import OnboardCore
import OnboardGraph

/// PETR's `CPFPN` neck (`"neck": {"type": "cpfpn", ...}`): lateral 1x1 convs (with bias) on every
/// input level, top-down nearest upsampling + add, and a 3x3 `fpn_conv` on level 0 only. PETR
/// uses level 0.
public struct CPFPNConfig: Codable, Sendable, Equatable {
    public var inChannels: [Int]
    public var outChannels: Int
    public var numOuts: Int

    enum CodingKeys: String, CodingKey { case inChannels = "in_channels", outChannels = "out_channels", numOuts = "num_outs" }

    public init(inChannels: [Int], outChannels: Int, numOuts: Int? = nil) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.numOuts = numOuts ?? inChannels.count
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inChannels = try c.decode([Int].self, forKey: .inChannels)
        outChannels = try c.decode(Int.self, forKey: .outChannels)
        numOuts = try c.decodeIfPresent(Int.self, forKey: .numOuts) ?? inChannels.count
    }
}

extension CPFPNConfig: NeckFamily {
    public static let configName = "cpfpn"

    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError { .format(path: path, item: "neck.\(field)", reason: reason) }
        guard !inChannels.isEmpty, inChannels.allSatisfy({ $0 > 0 }) else { throw fail("in_channels", "must list channel counts > 0") }
        guard outChannels > 0 else { throw fail("out_channels", "must be > 0") }
        guard numOuts >= inChannels.count else {
            throw fail("num_outs", "\(numOuts) is less than the \(inChannels.count) input levels")
        }
    }

    public func build(_ levels: [ValueID], module: ModuleBuilder, prefix: String) throws -> [ValueID] {
        try CPFPNBuilder.build(self, levels, module: module, prefix: prefix)
    }
}
