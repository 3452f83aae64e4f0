import Foundation
import OnboardCore
import OnboardGraph

extension PETRConfig: ModelArchitecture {
    public static let configName = "petr"

    public static func load(_ data: Data, path: String) throws -> PETRConfig {
        let config = try decode(data, path: path)
        try config.validate(path: path)
        return config
    }

    /// One sample (num_cameras images) per run, whatever `batch`: `images` [N, C, H, W] and
    /// `coords3d` [N, depth_num * 3, h, w], the inverse-sigmoid frustum coordinates
    /// `PETRGeometry.coords3d` computes from lidar2img (h, w: the backbone's feature map). A bundle
    /// without a backbone has no fixed input shapes (its feature map size comes with the input):
    /// empty; run it through `PETRModel`.
    public func inputShapes(batch: Int) -> [String: [Int]] {
        guard let size = featureSize else { return [:] }
        return ["images": [numCameras, imageChannels, imageSize[0], imageSize[1]],
                "coords3d": [numCameras, head.positionChannels, size[0], size[1]]]
    }

    /// Always 1 (one sample); throws unless the shapes are those of `inputShapes`.
    public func batchSize(for shapes: [String: [Int]], source: String) throws -> Int {
        guard backbone != nil else {
            throw OnboardError.format(path: source, item: nil, reason: "this PETR bundle has no backbone: run it on features with lidar2img through PETRModel")
        }
        for (name, shape) in inputShapes(batch: 1).sorted(by: { $0.key < $1.key }) where shapes[name] != shape {
            throw OnboardError.format(path: source, item: name, reason: "shape \(shapes[name] ?? []), model expects \(shape)")
        }
        return 1
    }

    /// The graph from `images` (`PETRBuilder`); `exposePreLogits` does not apply.
    public func graph(of bundle: ModelBundle, batch: Int, exposePreLogits: Bool) throws -> Graph {
        let weights = try bundle.weights()
        guard batch == 1 else {
            throw OnboardError.invalidArgument("\(bundle.directory): a PETR graph runs one sample (\(numCameras) images); batch \(batch) is not supported")
        }
        return try PETRBuilder.build(config: self, weights: weights, input: .images).graph
    }
}
