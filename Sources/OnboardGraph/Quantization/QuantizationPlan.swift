import Foundation
import OnboardCore
import OnboardQuant

/// Everything the INT8 executor needs beyond the graph: one scale and zero point per activation
/// tensor, the weight granularity, and which ops stay in float. Saved as a bundle's `quant.json`.
public struct QuantizationPlan: Codable, Equatable, Sendable {
    public var format = "onboard-quant"
    public var version = 1
    public var recipe: QuantizationRecipe
    /// By value name.
    public var activations: [String: ActivationQuant]
    /// Number of calibration samples the ranges come from.
    public var calibrationSamples: Int
    /// The recipe's `low_bit` quantizers, by value name: per-patch parameters of post-LayerNorm
    /// Linear inputs, and Shift-Log2 codes of post-GELU ones (absent without them).
    public var perToken: [String: PerTokenQuant]?
    public var logCodes: [String: LogCodeQuant]?

    enum CodingKeys: String, CodingKey {
        case format, version, recipe, activations, calibrationSamples = "calibration_samples"
        case perToken = "per_token", logCodes = "log_codes"
    }

    public init(recipe: QuantizationRecipe, activations: [String: ActivationQuant], calibrationSamples: Int) {
        self.recipe = recipe
        self.activations = activations
        self.calibrationSamples = calibrationSamples
    }

    /// Checks the plan fits `graph`: every non-constant value has valid parameters, and the
    /// recipe names only ops the graph has.
    public func validate(against graph: Graph, source: String) throws {
        guard format == "onboard-quant", version == 1 else {
            throw OnboardError.format(path: source, item: "format", reason: "not an onboard-quant v1 plan")
        }
        try recipe.validate(against: graph, source: source)
        for info in graph.values where info.role != .constant && info.dtype == .f32 {
            guard let params = activations[info.name] else {
                throw OnboardError.format(path: source, item: info.name, reason: "the plan has no parameters for this tensor of the model")
            }
            guard params.isValid else {
                throw OnboardError.format(path: source, item: info.name, reason: "invalid parameters \(params)")
            }
        }
        let names = Set(graph.values.map(\.name))
        if let stray = activations.keys.sorted().first(where: { !names.contains($0) }) {
            throw OnboardError.format(path: source, item: stray, reason: "the model has no tensor of this name")
        }
        let layout = LowBitLayout(graph: graph, recipe: recipe)
        for index in layout.perPatchValues {
            let info = graph.values[index]
            guard let params = perToken?[info.name], params.isValid, params.positions == info.shape[info.shape.count - 2] else {
                throw OnboardError.format(path: source, item: "per_token.\(info.name)",
                                          reason: "missing or invalid: the recipe quantizes this tensor per token position")
            }
        }
        for index in layout.logValues {
            let name = graph.values[index].name
            guard let params = logCodes?[name], params.isValid else {
                throw OnboardError.format(path: source, item: "log_codes.\(name)", reason: "missing or invalid: the recipe stores this tensor as Shift-Log2 codes")
            }
        }
    }

    public static func load(path: String) throws -> QuantizationPlan {
        let data = try InputFile.read(path, what: "quantization plan")
        return try JSONInput.decode(QuantizationPlan.self, from: data, path: path)
    }

    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile(path: path).write(bytes: Array(try encoder.encode(self)))
    }
}
