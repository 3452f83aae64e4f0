import Foundation
import OnboardCore
import OnboardGraph

extension VimConfig: ModelArchitecture {
    public static let configName = "vim"

    public static func load(_ data: Data, path: String) throws -> VimConfig {
        let config = try JSONInput.decode(VimConfig.self, from: data, path: path)
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
        return try VimBuilder.build(config: self, weights: try bundle.weights(), batch: batch, exposePreLogits: exposePreLogits)
    }
}
