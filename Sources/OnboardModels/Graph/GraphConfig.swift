import Foundation
import OnboardCore
import OnboardGraph

/// `"architecture": "graph"`: a model stored as its graph (`graph`, a `GraphDescription`) rather
/// than as a family's hyper-parameters, as `onboard import-onnx` writes it. Its input shapes are
/// fixed when the graph is written, batch included.
public struct GraphConfig: ModelArchitecture, Codable, Equatable {
    public static let configName = "graph"

    public let graph: GraphDescription
    /// Free text: where the graph came from (`import-onnx` writes the ONNX file's name and producer).
    public let source: String?

    public init(graph: GraphDescription, source: String?) {
        self.graph = graph
        self.source = source
    }

    private enum CodingKeys: String, CodingKey { case architecture, graph, source }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        graph = try c.decode(GraphDescription.self, forKey: .graph)
        source = try c.decodeIfPresent(String.self, forKey: .source)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.configName, forKey: .architecture)
        try c.encode(graph, forKey: .graph)
        try c.encodeIfPresent(source, forKey: .source)
    }

    public static func load(_ data: Data, path: String) throws -> GraphConfig {
        let config = try JSONInput.decode(GraphConfig.self, from: data, path: path)
        try config.validate(path: path)
        return config
    }

    /// The batch the graph was written for: its first input's leading dimension.
    public var batch: Int { graph.inputs.first?.shape.first ?? 1 }

    public func inputShapes(batch: Int) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: graph.inputs.map { input in
            (input.name, input.shape.isEmpty || batch == self.batch ? input.shape : [batch] + input.shape.dropFirst())
        })
    }

    public func batchSize(for shapes: [String: [Int]], source: String) throws -> Int {
        for input in graph.inputs where shapes[input.name] != input.shape {
            throw OnboardError.format(path: source, item: input.name, reason: "shape \(shapes[input.name] ?? []), model expects \(input.shape)")
        }
        return batch
    }

    public func graph(of bundle: ModelBundle, batch: Int, exposePreLogits: Bool) throws -> Graph {
        guard batch == self.batch else {
            throw OnboardError.invalidArgument(
                "\(bundle.directory): this graph was written for batch \(self.batch), not \(batch); import it again with that batch in --input")
        }
        let weights = try bundle.weights()
        let graph = try graph.build { name, shape in
            let tensor = try weights.take(name, shape: shape)
            return (tensor, weights.scales[name])
        }
        try weights.finish()
        return graph
    }

    /// Shapes a hostile file could make overflow or exhaust memory are refused before any is used.
    private func validate(path: String) throws {
        guard (1...GraphDescription.currentVersion).contains(graph.version) else {
            throw OnboardError.format(path: path, item: "graph.version",
                                      reason: "\(graph.version); this build reads 1...\(GraphDescription.currentVersion)")
        }
        guard !graph.inputs.isEmpty, !graph.outputs.isEmpty else {
            throw OnboardError.format(path: path, item: "graph", reason: "needs at least one input and one output")
        }
        for value in graph.inputs + graph.constants {
            try MemoryLimit.requireAllocatable(value.shape, bytesPerElement: value.dtype.byteSize, item: "graph '\(value.name)'", path: path)
        }
        for step in graph.nodes {
            if case let .reshape(target) = step.op {
                try MemoryLimit.requireAllocatable(target, item: "graph node '\(step.name)' shape", path: path)
            }
        }
    }
}
