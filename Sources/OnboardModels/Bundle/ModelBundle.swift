import Foundation
import OnboardCore
import OnboardGraph

/// A model directory: `config.json` (with an `architecture` field, or a Hugging Face config whose
/// `architectures` names a supported class) and `model.safetensors`.
public struct ModelBundle {
    public let directory: String
    /// The decoded, validated `config.json` of the bundle's architecture (`ViTConfig`,
    /// `PETRConfig`, ...; `bundle.model as? PETRConfig` asks for one).
    public let model: any ModelArchitecture
    /// The parsed config.json, for summaries.
    public let config: [String: Any]
    /// Weights that replace those of `model.safetensors` (a fine-tune delta merged once at load).
    public var weightOverrides: [String: Tensor] = [:]
    /// The delta file the overrides come from, for summaries and run identities.
    public var deltaPath: String?

    public var configPath: String { (directory as NSString).appendingPathComponent("config.json") }
    public var weightsPath: String { (directory as NSString).appendingPathComponent("model.safetensors") }

    /// Reads the bundle's `config.json` as the architecture it names among `architectures`.
    public init(directory: String, architectures: FamilyRegistry<any ModelArchitecture.Type> = ModelRegistry.architectures) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OnboardError.io(path: directory, reason: "not a model bundle directory")
        }
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        let data = try InputFile.read(configPath, what: "config file")
        guard let config = try JSONInput.parse(data, path: configPath) as? [String: Any] else {
            throw OnboardError.format(path: configPath, item: nil, reason: "not a JSON object")
        }
        self.config = config
        guard let name = try config["architecture"] as? String ?? Self.huggingFaceArchitecture(config, path: configPath) else {
            throw OnboardError.format(path: configPath, item: "architecture", reason: "missing")
        }
        guard let architecture = architectures.family(named: name) else {
            throw OnboardError.format(path: configPath, item: "architecture",
                                      reason: "unknown architecture '\(name)' (known: \(architectures.names.joined(separator: ", ")))")
        }
        model = try architecture.load(data, path: configPath)
    }

    /// The family of a Hugging Face model directory's `config.json` (no `architecture`, an
    /// `architectures` list instead): BERT's `BertModel`; nil when it has neither field.
    static func huggingFaceArchitecture(_ config: [String: Any], path: String) throws -> String? {
        guard let classes = config["architectures"] else { return nil }
        guard let names = classes as? [String], !names.isEmpty else {
            throw OnboardError.format(path: path, item: "architectures", reason: "must be a list of class names")
        }
        guard names.allSatisfy(BertConfig.huggingFaceClasses.contains) else {
            throw OnboardError.format(path: path, item: "architectures",
                                      reason: "\(names) is not supported (Hugging Face models: \(BertConfig.huggingFaceClasses.joined(separator: ", ")))")
        }
        return BertConfig.configName
    }

    /// Input names and shapes for a batch of `batch` (see each architecture's `inputShapes`).
    public func inputShapes(batch: Int) -> [String: [Int]] { model.inputShapes(batch: batch) }

    /// The batch size implied by given input shapes; throws if they do not fit the model.
    public func batchSize(for shapes: [String: [Int]], source: String) throws -> Int {
        try model.batchSize(for: shapes, source: source)
    }

    /// The model's graph for a batch size, weights bound strictly.
    public func graph(batch: Int, exposePreLogits: Bool = false) throws -> Graph {
        try model.graph(of: self, batch: batch, exposePreLogits: exposePreLogits)
    }

    /// The weights in `model.safetensors`.
    public func weights() throws -> WeightStore {
        WeightStore(file: try SafeTensorsFile(path: weightsPath), overrides: weightOverrides)
    }

    /// Every tensor of `model.safetensors` by name, with the overrides in place.
    public func allTensors() throws -> [String: Tensor] {
        try SafeTensorsFile(path: weightsPath).allTensors().merging(weightOverrides) { $1 }
    }
}
