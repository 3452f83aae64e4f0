import OnboardCore
import OnboardQuant

/// A recipe's low-bit part (`"low_bit"`): the Linears whose names start with one of `scope` (all
/// Linears when empty) get `weight_bits`-bit per-channel weights and `activation_bits`-bit inputs,
/// optionally with ADFQ-ViT's quantizers on those inputs and CFWS on those weights. Every other op
/// keeps the recipe's 8-bit settings. Keys are documented in docs/recipes.md.
public struct LowBitRecipe: Codable, Equatable, Sendable {
    /// How the input of an in-scope Linear fed by a LayerNorm is quantized.
    public enum PostLayerNorm: String, Codable, Sendable {
        /// One range for the tensor, from the recipe's observer (or `activation_observer`).
        case perTensor = "per_tensor"
        /// ADFQ-ViT's per-patch outlier-aware quantizer: static parameters per token position,
        /// values beyond `outlier_threshold` kept in float and added back as a sparse product.
        case perPatch = "per_patch"
    }

    /// How the input of an in-scope Linear fed by a GELU is quantized.
    public enum PostGELU: String, Codable, Sendable {
        case uniform
        /// ADFQ-ViT's Shift-Log2 quantizer (base sqrt 2, as its code): log codes, read by the
        /// Linear through a table into its integer product.
        case shiftLog2 = "shift_log2"
    }

    public var scope: [String] = []
    public var weightBits = 4
    public var weightClip: QuantizationRecipe.WeightClip = .max
    public var activationBits = 8
    /// nil: the recipe's `observer`.
    public var activationObserver: ObserverKind?
    public var postLayerNorm: PostLayerNorm = .perTensor
    public var outlierThreshold: Float = 5
    public var postGELU: PostGELU = .uniform
    /// CFWS: per output channel this fraction of the weights, the largest in magnitude, forms the
    /// coarse part (8-bit, sparse); the fine part is the rest at `weight_bits`. nil: no split.
    public var cfwsFraction: Double?
    /// Every in-scope Linear quantizes its input per token (row) at run time, asymmetric over the
    /// row's own min and max at `activation_bits`, instead of from calibrated parameters.
    public var dynamicPerToken = false
    /// Weights get one scale per output channel and run of this many consecutive inputs (GPTQ /
    /// AWQ-style groups) instead of one per output channel. nil: per channel.
    public var weightGroupSize: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case scope, weightBits = "weight_bits", weightClip = "weight_clip", activationBits = "activation_bits"
        case activationObserver = "activation_observer", postLayerNorm = "post_layernorm"
        case outlierThreshold = "outlier_threshold", postGELU = "post_gelu", cfwsFraction = "cfws_fraction"
        case dynamicPerToken = "dynamic_per_token", weightGroupSize = "weight_group_size"
    }

    /// Group sizes a recipe may name: powers of two, so they divide the usual widths.
    public static let weightGroupSizes = [16, 32, 64, 128, 256, 512, 1024]

    public init() {}

    public init(from decoder: Decoder) throws {
        try AnyCodingKey.rejectUnknown(CodingKeys.self, in: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scope = try c.decodeIfPresent([String].self, forKey: .scope) ?? []
        weightBits = try c.decodeIfPresent(Int.self, forKey: .weightBits) ?? 4
        guard weightBits == 4 || weightBits == 8 else {
            throw DecodingError.dataCorruptedError(forKey: .weightBits, in: c, debugDescription: "must be 4 or 8, got \(weightBits)")
        }
        weightClip = try c.decodeIfPresent(QuantizationRecipe.WeightClip.self, forKey: .weightClip) ?? .max
        activationBits = try c.decodeIfPresent(Int.self, forKey: .activationBits) ?? 8
        guard activationBits == 4 || activationBits == 8 else {
            throw DecodingError.dataCorruptedError(forKey: .activationBits, in: c, debugDescription: "must be 4 or 8, got \(activationBits)")
        }
        activationObserver = try c.decodeIfPresent(ObserverKind.self, forKey: .activationObserver)
        postLayerNorm = try c.decodeIfPresent(PostLayerNorm.self, forKey: .postLayerNorm) ?? .perTensor
        outlierThreshold = try c.decodeIfPresent(Float.self, forKey: .outlierThreshold) ?? 5
        guard outlierThreshold.isFinite, outlierThreshold > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .outlierThreshold, in: c, debugDescription: "must be a positive number")
        }
        postGELU = try c.decodeIfPresent(PostGELU.self, forKey: .postGELU) ?? .uniform
        // 2^bits log levels and a zero code share a byte; at 8 bits the base-sqrt(2) grid is also
        // coarser than the uniform one near its top (steps 41 % apart), so it is a 4-bit quantizer here.
        guard postGELU == .uniform || activationBits == 4 else {
            throw DecodingError.dataCorruptedError(forKey: .postGELU, in: c, debugDescription: "\"shift_log2\" needs \"activation_bits\": 4")
        }
        cfwsFraction = try c.decodeIfPresent(Double.self, forKey: .cfwsFraction)
        if let fraction = cfwsFraction, !(fraction > 0 && fraction <= 0.05) {
            throw DecodingError.dataCorruptedError(forKey: .cfwsFraction, in: c, debugDescription: "must be above 0 and at most 0.05, got \(fraction)")
        }
        dynamicPerToken = try c.decodeIfPresent(Bool.self, forKey: .dynamicPerToken) ?? false
        guard !dynamicPerToken || (postLayerNorm == .perTensor && postGELU == .uniform) else {
            throw DecodingError.dataCorruptedError(forKey: .dynamicPerToken, in: c,
                                                   debugDescription: "replaces the static quantizers: post_layernorm must be \"per_tensor\" and post_gelu \"uniform\"")
        }
        weightGroupSize = try c.decodeIfPresent(Int.self, forKey: .weightGroupSize)
        if let size = weightGroupSize {
            guard Self.weightGroupSizes.contains(size) else {
                throw DecodingError.dataCorruptedError(forKey: .weightGroupSize, in: c,
                                                       debugDescription: "must be one of \(Self.weightGroupSizes.map(String.init).joined(separator: ", ")), got \(size)")
            }
            guard cfwsFraction == nil else {
                throw DecodingError.dataCorruptedError(forKey: .weightGroupSize, in: c, debugDescription: "and cfws_fraction exclude each other")
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scope, forKey: .scope)
        try c.encode(weightBits, forKey: .weightBits)
        try c.encode(weightClip, forKey: .weightClip)
        try c.encode(activationBits, forKey: .activationBits)
        try c.encodeIfPresent(activationObserver, forKey: .activationObserver)
        try c.encode(postLayerNorm, forKey: .postLayerNorm)
        try c.encode(outlierThreshold, forKey: .outlierThreshold)
        try c.encode(postGELU, forKey: .postGELU)
        try c.encodeIfPresent(cfwsFraction, forKey: .cfwsFraction)
        if dynamicPerToken { try c.encode(dynamicPerToken, forKey: .dynamicPerToken) }
        try c.encodeIfPresent(weightGroupSize, forKey: .weightGroupSize)
    }

    public func covers(_ name: String) -> Bool { scope.isEmpty || scope.contains { name.hasPrefix($0) } }
}
