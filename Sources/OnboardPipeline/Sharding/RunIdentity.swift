import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardSensors

/// What makes two shards parts of one run: the same Onboard, model, recipe, data, samples,
/// settings and numerics. `merge` refuses parts whose identities differ, naming the field.
public struct RunIdentity: Codable, Equatable, Sendable {
    /// What decides the floats besides the inputs: results do not depend on the thread count, but
    /// the kernel paths and OpenBLAS's kernel set round differently.
    public struct Numerics: Codable, Equatable, Sendable {
        public var kernels: KernelPaths
        public var blas: String

        public static var current: Numerics { Numerics(kernels: .current, blas: BLASCore.name) }
        var text: String { "kernels \(kernels.text), OpenBLAS \(blas)" }
    }

    public var onboardVersion = OnboardVersion.current
    /// SHA-256 over the bundle's files.
    public var model: String
    /// SHA-256 of the recipe as used (nil: no quantization).
    public var recipe: String?
    /// SHA-256 over the data the samples come from (tables, or calibration inputs).
    public var data: String
    /// SHA-256 of the ordered list of every sample of the whole run.
    public var samples: String
    public var sampleCount: Int
    /// Options that change the outputs (precision, split, ...), by option name.
    public var settings: [String: String]
    public var numerics = Numerics.current

    enum CodingKeys: String, CodingKey {
        case onboardVersion = "onboard_version", model, recipe, data, samples, sampleCount = "sample_count", settings, numerics
    }

    public init(model: String, recipe: String?, data: String, samples: [String], settings: [String: String]) {
        (self.model, self.recipe, self.data, self.settings) = (model, recipe, data, settings)
        self.samples = ContentDigest.text(samples.joined(separator: "\n"))
        sampleCount = samples.count
    }

    /// The first field in which `other` differs, with both values, or nil.
    public func difference(from other: RunIdentity) -> (field: String, mine: String, theirs: String)? {
        let fields: [(String, String, String)] = [
            ("onboard_version", onboardVersion, other.onboardVersion),
            ("model", model, other.model),
            ("recipe", recipe ?? "none", other.recipe ?? "none"),
            ("data", data, other.data),
            ("sample_count", "\(sampleCount)", "\(other.sampleCount)"),
            ("samples", samples, other.samples),
            ("numerics", numerics.text, other.numerics.text),
        ] + Set(settings.keys).union(other.settings.keys).sorted().map {
            ("settings.\($0)", settings[$0] ?? "unset", other.settings[$0] ?? "unset")
        }
        return fields.first { $0.1 != $0.2 }.map { (field: $0.0, mine: $0.1, theirs: $0.2) }
    }

    /// SHA-256 over a bundle's files (config.json, model.safetensors, and quant.json and the merged delta when present).
    public static func digest(bundle: ModelBundle) throws -> String {
        let plan = (bundle.directory as NSString).appendingPathComponent(QuantizedBundle.planFile)
        var files = [(name: "config.json", path: bundle.configPath), (name: "model.safetensors", path: bundle.weightsPath)]
        if FileManager.default.fileExists(atPath: plan) { files.append((name: QuantizedBundle.planFile, path: plan)) }
        if let delta = bundle.deltaPath { files.append((name: "delta", path: delta)) }
        return try ContentDigest.files(files)
    }

    /// SHA-256 over a camera set's tables (every .json of VERSION/, splits.json included).
    public static func digest(tables: NuScenesTables) throws -> String {
        let directory = tables.tablesDirectory
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            throw OnboardError.io(path: directory, reason: "cannot list it: \(error.localizedDescription)")
        }
        return tables.version + " " + (try ContentDigest.files(names.map { ($0, (directory as NSString).appendingPathComponent($0)) }))
    }

    /// SHA-256 of a recipe's canonical JSON.
    public static func digest(recipe: QuantizationRecipe) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ContentDigest.text(String(decoding: try encoder.encode(recipe), as: UTF8.self))
    }
}
