import Foundation
import OnboardCore
import OnboardGraph

extension BertConfig: ModelArchitecture {
    public static let configName = "bert"

    public static func load(_ data: Data, path: String) throws -> BertConfig {
        let config = try JSONInput.decode(BertConfig.self, from: data, path: path)
        try config.validate(path: path)
        return config
    }

    /// `input_ids` [B, max_position_embeddings]: what generic commands (run, bench) feed; the
    /// sentence embedder builds a graph per sequence length instead.
    public func inputShapes(batch: Int) -> [String: [Int]] {
        [BertBuilder.inputName: [batch, maxPositionEmbeddings]]
    }

    public func batchSize(for shapes: [String: [Int]], source: String) throws -> Int {
        guard let shape = shapes[BertBuilder.inputName] else {
            throw OnboardError.format(path: source, item: nil, reason: "needs input tensor \(BertBuilder.inputName)")
        }
        guard shape.count == 2, shape[0] >= 1, (1...maxPositionEmbeddings).contains(shape[1]) else {
            throw OnboardError.format(path: source, item: BertBuilder.inputName,
                                      reason: "shape \(shape), model expects [batch, 1...\(maxPositionEmbeddings)]")
        }
        return shape[0]
    }

    public func graph(of bundle: ModelBundle, batch: Int, exposePreLogits: Bool) throws -> Graph {
        try graph(of: bundle, batch: batch, length: maxPositionEmbeddings)
    }

    /// The encoder for `batch` sequences of exactly `length` tokens (no padding, so no mask).
    public func graph(
        of bundle: ModelBundle, batch: Int, length: Int, pooling: SentencePooling = .mean, transforms: BertTransforms? = nil
    ) throws -> Graph {
        guard batch >= 1, batch <= 1 << 16 else { throw OnboardError.invalidArgument("\(bundle.directory): batch \(batch) must be in 1...65536") }
        guard (1...maxPositionEmbeddings).contains(length) else {
            throw OnboardError.invalidArgument("\(bundle.directory): sequence length \(length) must be in 1...\(maxPositionEmbeddings)")
        }
        return try BertBuilder.build(config: self, weights: try bundle.weights(), batch: batch, length: length,
                                     pooling: pooling, transforms: transforms)
    }
}
