import Foundation
import OnboardCore
import OnboardGraph

/// A model directory: `config.json` (with an `architecture` field) and `model.safetensors`.
public struct ModelBundle {
    public enum Architecture: Sendable, Equatable {
        case vit(ViTConfig)
        /// A PETR camera detector; one sample (num_cameras images) per run.
        case petr(PETRConfig)
    }

    public let directory: String
    public let architecture: Architecture
    /// The parsed config.json, for summaries.
    public let config: [String: Any]

    public var configPath: String { (directory as NSString).appendingPathComponent("config.json") }
    public var weightsPath: String { (directory as NSString).appendingPathComponent("model.safetensors") }

    public init(directory: String) throws {
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
        guard let name = config["architecture"] as? String else {
            throw OnboardError.format(path: configPath, item: "architecture", reason: "missing")
        }
        switch name {
        case "vit":
            let vit = try JSONInput.decode(ViTConfig.self, from: data, path: configPath)
            try vit.validate(path: configPath)
            architecture = .vit(vit)
        case "petr":
            let petr = try PETRConfig.decode(data, path: configPath)
            try petr.validate(path: configPath)
            architecture = .petr(petr)
        default:
            throw OnboardError.format(path: configPath, item: "architecture", reason: "unknown architecture '\(name)'")
        }
    }

    /// Input names and shapes for a batch of `batch`.
    ///
    /// PETR (batch 1 = one sample): `images` [N, C, H, W] and `coords3d` [N, depth_num * 3, h, w],
    /// the inverse-sigmoid frustum coordinates `PETRGeometry.coords3d` computes from lidar2img
    /// (h, w: the backbone's feature map). A bundle without a backbone has no fixed input shapes
    /// (its feature map size comes with the input): empty; run it through `PETRModel`.
    public func inputShapes(batch: Int) -> [String: [Int]] {
        switch architecture {
        case let .vit(c): return ["pixel_values": [batch, c.inChans, c.imageSize[0], c.imageSize[1]]]
        case let .petr(c):
            guard let size = c.featureSize else { return [:] }
            return ["images": [c.numCameras, c.imageChannels, c.imageSize[0], c.imageSize[1]],
                    "coords3d": [c.numCameras, c.head.positionChannels, size[0], size[1]]]
        }
    }

    /// The batch size implied by given input shapes; throws if they do not fit the model.
    public func batchSize(for shapes: [String: [Int]], source: String) throws -> Int {
        if case let .petr(c) = architecture {
            // One sample of num_cameras images per run.
            guard c.backbone != nil else {
                throw OnboardError.format(path: source, item: nil, reason: "this PETR bundle has no backbone: run it on features with lidar2img (onboard run)")
            }
            for (name, shape) in inputShapes(batch: 1).sorted(by: { $0.key < $1.key }) where shapes[name] != shape {
                throw OnboardError.format(path: source, item: name, reason: "shape \(shapes[name] ?? []), model expects \(shape)")
            }
            return 1
        }
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

    /// The model's graph for a batch size, weights bound strictly.
    public func graph(batch: Int, exposePreLogits: Bool = false) throws -> Graph {
        if case let .vit(c) = architecture {
            guard batch >= 1 else { throw OnboardError.invalidArgument("\(directory): batch \(batch) must be >= 1") }
            do {
                try c.requireAllocatable(batch: batch, path: configPath)
            } catch let OnboardError.format(_, item, reason) {
                throw OnboardError.invalidArgument("\(directory): batch \(batch): \(item ?? "input"): \(reason)")
            }
        }
        let weights = WeightStore(file: try SafeTensorsFile(path: weightsPath))
        switch architecture {
        case let .vit(c):
            return try ViTBuilder.build(config: c, weights: weights, batch: batch, exposePreLogits: exposePreLogits)
        case let .petr(c):
            guard batch == 1 else {
                throw OnboardError.invalidArgument("\(directory): a PETR graph runs one sample (\(c.numCameras) images); batch \(batch) is not supported")
            }
            return try PETRBuilder.build(config: c, weights: weights, input: .images).graph
        }
    }
}
