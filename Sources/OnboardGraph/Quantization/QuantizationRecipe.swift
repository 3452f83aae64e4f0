import Foundation
import OnboardCore
import OnboardQuant

/// How to quantize a graph, read from a JSON recipe file; its keys are documented in docs/recipes.md.
public struct QuantizationRecipe: Codable, Equatable, Sendable {
    public enum Granularity: String, Codable, Sendable { case perTensor = "per_tensor", perChannel = "per_channel" }
    public enum WeightClip: String, Codable, Sendable { case max, mse }
    public enum Requantization: String, Codable, Sendable { case float, fixedPoint = "fixed_point" }
    /// What the softmax after an integer matmul reads: the logits as they are, or (QANS) the
    /// logits minus each row's max, quantized over [min, 0] (see `SoftmaxStabilization`).
    public enum SoftmaxInput: String, Codable, Sendable { case plain, stabilized }
    public enum SoftmaxKernel: String, Codable, Sendable { case float, lut }
    /// What an integer softmax read only by integer matmuls stores: probabilities, or each row's
    /// e^(x - max) with the division by the row sum deferred to the matmul (see `SoftmaxNormalization`).
    public enum SoftmaxOutput: String, Codable, Sendable { case normalized, deferred }
    public enum LayerNormKernel: String, Codable, Sendable { case float, integer }
    /// How the graph's outputs leave the integer pipeline (see `DequantizedOutputs`).
    public enum GraphOutputs: String, Codable, Sendable { case quantized, float }
    /// What an integer Linear read only by float islands writes: u8 codes, or f32 straight from
    /// its int32 accumulators (see `DequantizedOutputs`).
    public enum FloatIslandInputs: String, Codable, Sendable { case quantized, float }
    /// A rotation of the residual stream folded into the weights before calibration (QuaRot's and
    /// MambaQuant's R1; models that have one apply it, see `VimRotation`): a Hadamard matrix, or
    /// MambaQuant's KLT-enhanced one (the eigenvectors of the calibration covariance times it).
    public enum Rotation: String, Codable, Sendable { case hadamard, kltHadamard = "klt_hadamard" }
    /// Per-channel smoothing folded into the weights before calibration: MambaQuant's smooth-fused
    /// SiLU (S2) on every out_proj input of a Vision Mamba (see `VimSmoothing`), or SmoothQuant's
    /// migration on the Linear inputs of a BERT encoder (see `BertTransforms`).
    public enum Smoothing: String, Codable, Sendable { case scaledSiLU = "scaled_silu", smoothQuant = "smoothquant" }

    public var observer: ObserverKind = .minmax
    public var percentile: Double = 99.99
    public var symmetricActivations = false
    public var consumerClipping = true
    public var weights: Granularity = .perTensor
    public var weightClip: WeightClip = .max
    /// Bits of the symmetric weight codes: 8 (-127...127) or 7 (-63...63, which CPUs without an
    /// int8 dot product multiply exactly at the vpmaddubsw rate).
    public var weightBits = 8
    public var requantization: Requantization = .float
    public var keepFloat: [String] = []
    public var keepFloatKinds: [String] = []
    public var softmaxInput: SoftmaxInput = .plain
    /// Stabilized logits below `-softmaxClip` are clamped there (I-LLM's DI-ClippedSoftmax): they
    /// weigh at most e^-clip in the softmax, and a narrower range gives the others finer steps.
    public var softmaxClip: Double?
    /// nil: `.lut` when the softmax input is stabilized, else `.float` (see `integerSoftmax`).
    public var softmax: SoftmaxKernel?
    public var softmaxOutput: SoftmaxOutput = .normalized
    public var layerNorm: LayerNormKernel = .float
    /// 16: an integer LayerNorm of an integer add reads the add's operands and forms the residual
    /// sum at 16 bits (see `WideResidualNorm`); 8: it reads the add's 8-bit codes.
    public var residualBits = 8
    /// A BERT encoder's residual sums carried divided by a per-channel s (both operands: the
    /// sublayer's output rows and a copy of the LayerNorm output), multiplied back before each
    /// LayerNorm; a 16-bit residual norm folds s into its per-channel multipliers (`WideResidualNorm`).
    public var residualSmoothing = false
    public var graphOutputs: GraphOutputs = .quantized
    public var floatIslandInputs: FloatIslandInputs = .quantized
    public var foldConstantAddends = false
    public var rotation: Rotation?
    /// With a rotation: random ±1 signs on the Hadamard's rows drawn from this seed (QuaRot's
    /// randomized Hadamard); nil for the plain one.
    public var rotationSeed: UInt64?
    public var smoothing: Smoothing?
    /// SmoothQuant's migration strength: s = max|X|^alpha / max|W|^(1 - alpha).
    public var smoothingAlpha: Double = 0.5
    /// Low-bit weights and activations for some Linears, with ADFQ-ViT's quantizers and CFWS.
    public var lowBit: LowBitRecipe?

    public init() {}

    /// Whether softmax runs on the integer lookup-table kernel.
    public var integerSoftmax: Bool { (softmax ?? (softmaxInput == .stabilized ? .lut : .float)) == .lut }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case observer, percentile, activations, weights, requantization
        case weightClip = "weight_clip", weightBits = "weight_bits", consumerClipping = "consumer_clipping"
        case keepFloat = "keep_float", keepFloatKinds = "keep_float_kinds"
        case softmaxInput = "softmax_input", softmaxClip = "softmax_clip", softmax, layerNorm = "layernorm"
        case residualBits = "residual_bits", residualSmoothing = "residual_smoothing"
        case softmaxOutput = "softmax_output", graphOutputs = "graph_outputs", floatIslandInputs = "float_island_inputs"
        case foldConstantAddends = "fold_constant_addends", rotation, rotationSeed = "rotation_seed"
        case smoothing, smoothingAlpha = "smoothing_alpha", lowBit = "low_bit"
    }

    public init(from decoder: Decoder) throws {
        try AnyCodingKey.rejectUnknown(CodingKeys.self, in: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        observer = try c.decodeIfPresent(ObserverKind.self, forKey: .observer) ?? .minmax
        percentile = try c.decodeIfPresent(Double.self, forKey: .percentile) ?? 99.99
        guard percentile.isFinite, percentile > 0, percentile <= 100 else {
            throw DecodingError.dataCorruptedError(forKey: .percentile, in: c, debugDescription: "must be above 0 and at most 100, got \(percentile)")
        }
        let activations = try c.decodeIfPresent(String.self, forKey: .activations) ?? "asymmetric"
        guard ["asymmetric", "symmetric"].contains(activations) else {
            throw DecodingError.dataCorruptedError(forKey: .activations, in: c, debugDescription: "'\(activations)' is not asymmetric or symmetric")
        }
        symmetricActivations = activations == "symmetric"
        consumerClipping = try c.decodeIfPresent(Bool.self, forKey: .consumerClipping) ?? true
        weights = try c.decodeIfPresent(Granularity.self, forKey: .weights) ?? .perTensor
        weightClip = try c.decodeIfPresent(WeightClip.self, forKey: .weightClip) ?? .max
        weightBits = try c.decodeIfPresent(Int.self, forKey: .weightBits) ?? 8
        guard weightBits == 7 || weightBits == 8 else {
            throw DecodingError.dataCorruptedError(forKey: .weightBits, in: c, debugDescription: "must be 7 or 8, got \(weightBits)")
        }
        requantization = try c.decodeIfPresent(Requantization.self, forKey: .requantization) ?? .float
        keepFloat = try c.decodeIfPresent([String].self, forKey: .keepFloat) ?? []
        keepFloatKinds = try c.decodeIfPresent([String].self, forKey: .keepFloatKinds) ?? []
        softmaxInput = try c.decodeIfPresent(SoftmaxInput.self, forKey: .softmaxInput) ?? .plain
        softmaxClip = try c.decodeIfPresent(Double.self, forKey: .softmaxClip)
        if let clip = softmaxClip {
            guard clip.isFinite, clip > 0 else {
                throw DecodingError.dataCorruptedError(forKey: .softmaxClip, in: c, debugDescription: "must be a positive number, got \(clip)")
            }
            guard softmaxInput == .stabilized else {
                throw DecodingError.dataCorruptedError(forKey: .softmaxClip, in: c, debugDescription: "needs \"softmax_input\": \"stabilized\"")
            }
        }
        softmax = try c.decodeIfPresent(SoftmaxKernel.self, forKey: .softmax)
        softmaxOutput = try c.decodeIfPresent(SoftmaxOutput.self, forKey: .softmaxOutput) ?? .normalized
        guard softmaxOutput == .normalized || integerSoftmax else {
            throw DecodingError.dataCorruptedError(forKey: .softmaxOutput, in: c, debugDescription: "\"deferred\" needs \"softmax\": \"lut\"")
        }
        layerNorm = try c.decodeIfPresent(LayerNormKernel.self, forKey: .layerNorm) ?? .float
        graphOutputs = try c.decodeIfPresent(GraphOutputs.self, forKey: .graphOutputs) ?? .quantized
        floatIslandInputs = try c.decodeIfPresent(FloatIslandInputs.self, forKey: .floatIslandInputs) ?? .quantized
        foldConstantAddends = try c.decodeIfPresent(Bool.self, forKey: .foldConstantAddends) ?? false
        rotation = try c.decodeIfPresent(Rotation.self, forKey: .rotation)
        rotationSeed = try c.decodeIfPresent(UInt64.self, forKey: .rotationSeed)
        guard rotationSeed == nil || rotation != nil else {
            throw DecodingError.dataCorruptedError(forKey: .rotationSeed, in: c, debugDescription: "needs \"rotation\"")
        }
        smoothing = try c.decodeIfPresent(Smoothing.self, forKey: .smoothing)
        residualBits = try c.decodeIfPresent(Int.self, forKey: .residualBits) ?? 8
        guard residualBits == 8 || (residualBits == 16 && layerNorm == .integer) else {
            throw DecodingError.dataCorruptedError(forKey: .residualBits, in: c,
                                                   debugDescription: "must be 8, or 16 with \"layernorm\": \"integer\"; got \(residualBits)")
        }
        residualSmoothing = try c.decodeIfPresent(Bool.self, forKey: .residualSmoothing) ?? false
        guard !residualSmoothing || smoothing == .smoothQuant else {
            throw DecodingError.dataCorruptedError(forKey: .residualSmoothing, in: c, debugDescription: "needs \"smoothing\": \"smoothquant\" (a BERT encoder)")
        }
        if let alpha = try c.decodeIfPresent(Double.self, forKey: .smoothingAlpha) {
            guard alpha.isFinite, alpha >= 0, alpha <= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .smoothingAlpha, in: c, debugDescription: "must be in 0...1")
            }
            smoothingAlpha = alpha
        }
        lowBit = try c.decodeIfPresent(LowBitRecipe.self, forKey: .lowBit)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(observer, forKey: .observer)
        try c.encode(percentile, forKey: .percentile)
        try c.encode(symmetricActivations ? "symmetric" : "asymmetric", forKey: .activations)
        try c.encode(consumerClipping, forKey: .consumerClipping)
        try c.encode(weights, forKey: .weights)
        try c.encode(weightClip, forKey: .weightClip)
        try c.encode(weightBits, forKey: .weightBits)
        try c.encode(requantization, forKey: .requantization)
        try c.encode(keepFloat, forKey: .keepFloat)
        try c.encode(keepFloatKinds, forKey: .keepFloatKinds)
        try c.encode(softmaxInput, forKey: .softmaxInput)
        try c.encodeIfPresent(softmaxClip, forKey: .softmaxClip)
        try c.encodeIfPresent(softmax, forKey: .softmax)
        try c.encode(softmaxOutput, forKey: .softmaxOutput)
        try c.encode(layerNorm, forKey: .layerNorm)
        if residualBits != 8 { try c.encode(residualBits, forKey: .residualBits) }
        if residualSmoothing { try c.encode(residualSmoothing, forKey: .residualSmoothing) }
        try c.encode(graphOutputs, forKey: .graphOutputs)
        try c.encode(floatIslandInputs, forKey: .floatIslandInputs)
        try c.encode(foldConstantAddends, forKey: .foldConstantAddends)
        try c.encodeIfPresent(rotation, forKey: .rotation)
        try c.encodeIfPresent(rotationSeed, forKey: .rotationSeed)
        try c.encodeIfPresent(smoothing, forKey: .smoothing)
        if smoothing == .smoothQuant || smoothingAlpha != 0.5 { try c.encode(smoothingAlpha, forKey: .smoothingAlpha) }
        try c.encodeIfPresent(lowBit, forKey: .lowBit)
    }

    /// Reads a recipe file; a malformed field is an error naming the file and the field.
    public static func load(path: String) throws -> QuantizationRecipe {
        let data = try InputFile.read(path, what: "recipe")
        return try JSONInput.decode(QuantizationRecipe.self, from: data, path: path)
    }

    /// Node names and kinds that must exist in `graph`: an unknown name is an error.
    public func validate(against graph: Graph, source: String) throws {
        let names = Set(graph.nodes.map(\.name))
        for name in keepFloat where !names.contains(name) {
            throw OnboardError.format(path: source, item: "keep_float", reason: "the model has no op named '\(name)'")
        }
        let kinds = Set(graph.nodes.map(\.op.kind))
        for kind in keepFloatKinds where !kinds.contains(kind) {
            throw OnboardError.format(path: source, item: "keep_float_kinds", reason: "the model has no op of kind '\(kind)'")
        }
        for prefix in lowBit?.scope ?? [] where !graph.nodes.contains(where: { $0.op == .linear && $0.name.hasPrefix(prefix) }) {
            throw OnboardError.format(path: source, item: "low_bit.scope", reason: "the model has no Linear whose name starts with '\(prefix)'")
        }
        if let lowBit, let size = lowBit.weightGroupSize {
            for node in graph.nodes where node.op == .linear && lowBit.covers(node.name) {
                let width = node.inputs.count > 1 ? graph.info(node.inputs[1]).shape.last ?? 0 : 0
                guard width > 0, width % size == 0 else {
                    throw OnboardError.format(path: source, item: "low_bit.weight_group_size",
                                              reason: "\(node.name) has \(width) inputs, not a multiple of \(size)")
                }
            }
        }
    }

    func keepsFloat(_ node: Node) -> Bool {
        keepFloat.contains(node.name) || keepFloatKinds.contains(node.op.kind)
    }
}
