import Foundation
import OnboardCore
import OnboardGraph

/// A whole-model config that classifies `pixel_values` [B, C, H, W] (ViT, Vim): decoding,
/// input shapes, batch size and the graph's memory check are shared; a family gives its
/// checks and its builder.
protocol ImageClassifierConfig: ModelArchitecture, Decodable {
    var inChans: Int { get }
    var imageSize: [Int] { get }
    func validate(path: String) throws
    /// Throws when a graph of `batch` images would not fit in memory.
    func requireAllocatable(batch: Int, path: String) throws
    func build(weights: WeightStore, batch: Int, exposePreLogits: Bool) throws -> Graph
}

extension ImageClassifierConfig {
    public static func load(_ data: Data, path: String) throws -> Self {
        let config = try JSONInput.decode(Self.self, from: data, path: path)
        try config.validate(path: path)
        return config
    }

    /// `pixel_values` [B, C, H, W].
    public func inputShapes(batch: Int) -> [String: [Int]] {
        ["pixel_values": [batch, inChans, imageSize[0], imageSize[1]]]
    }

    public func batchSize(for shapes: [String: [Int]], source: String) throws -> Int {
        try leadingBatchSize(for: shapes, source: source)
    }

    public func graph(of bundle: ModelBundle, batch: Int, exposePreLogits: Bool) throws -> Graph {
        try requireBatch(batch, of: bundle, allocatable: requireAllocatable)
        return try build(weights: try bundle.weights(), batch: batch, exposePreLogits: exposePreLogits)
    }
}
