import Foundation
import OnboardCore
import OnboardGraph

/// A model family a bundle's `config.json` selects with `"architecture"`: its config type, decoded
/// from that file, and what `ModelBundle` asks of it. Registered in `ModelRegistry.architectures`.
public protocol ModelArchitecture: Sendable {
    /// The `architecture` string of `config.json` ("vit", "petr", "vim").
    static var configName: String { get }

    /// Decodes and validates `config.json`'s bytes; an error names `path` and the field.
    static func load(_ data: Data, path: String) throws -> Self

    /// Input names and shapes for a batch of `batch`; empty when the inputs have no fixed shapes.
    func inputShapes(batch: Int) -> [String: [Int]]

    /// The batch size implied by given input shapes; throws naming `source` if they do not fit.
    func batchSize(for shapes: [String: [Int]], source: String) throws -> Int

    /// The graph for a batch of `batch` with `bundle`'s weights bound strictly; `exposePreLogits`
    /// adds the pooled features as an output where the family has them.
    func graph(of bundle: ModelBundle, batch: Int, exposePreLogits: Bool) throws -> Graph
}

extension ModelArchitecture {
    /// `batchSize` of a family whose inputs all lead with the batch dimension: the first input's
    /// leading dimension, every input's shape checked against `inputShapes` for that batch.
    public func leadingBatchSize(for shapes: [String: [Int]], source: String) throws -> Int {
        guard let first = inputShapes(batch: 1).first, let given = shapes[first.key] else {
            let expected = inputShapes(batch: 1).keys.sorted().joined(separator: ", ")
            throw OnboardError.format(path: source, item: nil, reason: "needs input tensor(s) \(expected)")
        }
        guard let batch = given.first, batch >= 1 else {
            throw OnboardError.format(path: source, item: first.key, reason: "shape \(given) has no batch dimension")
        }
        for (name, shape) in inputShapes(batch: batch) where shapes[name] != shape {
            throw OnboardError.format(path: source, item: name, reason: "shape \(shapes[name] ?? []), model expects \(shape)")
        }
        return batch
    }

    /// Throws unless `batch` is at least 1 and `allocatable(batch, configPath)` accepts it; its
    /// complaint about the config file is restated as one about this bundle's batch.
    public func requireBatch(_ batch: Int, of bundle: ModelBundle, allocatable: (Int, String) throws -> Void) throws {
        guard batch >= 1 else { throw OnboardError.invalidArgument("\(bundle.directory): batch \(batch) must be >= 1") }
        do {
            try allocatable(batch, bundle.configPath)
        } catch let OnboardError.format(_, item, reason) {
            throw OnboardError.invalidArgument("\(bundle.directory): batch \(batch): \(item ?? "input"): \(reason)")
        }
    }
}
