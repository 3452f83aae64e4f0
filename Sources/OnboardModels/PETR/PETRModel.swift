import Foundation
import OnboardCore
import OnboardGraph

/// What `PETRModel.run` returns for one sample.
public struct PETROutputs: Sendable {
    /// [L, Q, num_classes] logits, as the official head returns them.
    public let allClassScores: Tensor
    /// [L, Q, 10] the reg branch's output before the centres are decoded (the graph's `bbox_raw`).
    public let bboxRaw: Tensor
    /// [L, Q, 10]: metres for x, y, z (channels 0, 1, 4), raw log sizes, sin, cos and velocity.
    public let allBboxPredictions: Tensor
    public let detections: PETRDetections
    /// [N, depth_num * 3, h, w] graph input computed from lidar2img.
    public let coords3d: Tensor
    /// [N*h*w, E] position embedding and input_proj output, tokens (camera, row, column).
    public let posEmbed: Tensor
    public let memory: Tensor

    /// The tensors `onboard run` writes: all_cls_scores, all_bbox_preds, boxes, scores, labels (i32)
    /// and queries (i32).
    public var named: [String: Tensor] {
        ["all_cls_scores": allClassScores, "all_bbox_preds": allBboxPredictions, "boxes": detections.boxes,
         "scores": detections.scores, "labels": detections.labels, "queries": detections.queries]
    }
}

/// Runs a PETR bundle on one sample: `images` [N, C, H, W] (or `features` [N, in_channels, h, w])
/// plus `lidar2img` [N, 4, 4]. The geometry (`coords3d`) is computed in Swift, the graph runs on
/// the executor given, and the head's outputs are decoded as the official head does.
public final class PETRModel {
    public let config: PETRConfig
    public let built: PETRGraph
    public let runner: any GraphRunner
    /// Workers for the geometry (the executor has its own).
    public let threads: Int
    /// Seconds spent by the last `run` in the geometry (coords3d), the graph, and decoding.
    public private(set) var lastTimings = (geometry: 0.0, graph: 0.0, decoding: 0.0)

    /// - Parameters:
    ///   - input: `.images`, or `.features(height:width:)` for the feature map's size.
    ///   - executor: makes the runner for the graph (default FP32 with `threads` workers).
    public convenience init(bundle: ModelBundle, input: PETRInput, threads: Int = Parallel.coreCount,
                            executor: ((Graph) throws -> any GraphRunner)? = nil) throws {
        guard let config = bundle.model as? PETRConfig else {
            throw OnboardError.invalidArgument("\(bundle.directory): not a PETR bundle")
        }
        try self.init(config: config, weights: try bundle.weights(), input: input, threads: threads, executor: executor)
    }

    public init(config: PETRConfig, weights: WeightStore, input: PETRInput, threads: Int = Parallel.coreCount,
                executor: ((Graph) throws -> any GraphRunner)? = nil) throws {
        self.config = config
        self.threads = threads
        built = try PETRBuilder.build(config: config, weights: weights, input: input, threads: threads)
        runner = try executor?(built.graph) ?? FP32Executor(graph: built.graph, threads: threads)
    }

    /// The quantization of the graph's image input (`images` or `features`, as built) when the
    /// runner takes it as u8 codes (an INT8 runner): `run` then accepts it as a u8 tensor of those
    /// codes, saving the float image and its quantization. nil for a float runner.
    public var imageQuantization: ActivationQuant? { runner.inputQuantization(built.input.name) }

    /// The input mode a set of tensors asks for: `features` when present (its [h, w] taken from
    /// it), else `images`. Throws naming `source` when neither is there or `features` is not
    /// [N, in_channels, h, w].
    public static func input(for tensors: [String: Tensor], config: PETRConfig, source: String) throws -> PETRInput {
        if let features = tensors["features"] {
            let s = features.shape
            guard s.count == 4, s[0] == config.numCameras, s[1] == config.head.inChannels, s[2] > 0, s[3] > 0 else {
                throw OnboardError.format(path: source, item: "features",
                                          reason: "shape \(s), the model expects [\(config.numCameras), \(config.head.inChannels), h, w]")
            }
            return .features(height: s[2], width: s[3])
        }
        guard tensors["images"] != nil else {
            throw OnboardError.format(path: source, item: nil,
                                      reason: "needs images [\(config.numCameras), \(config.imageChannels), \(config.imageSize[0]), \(config.imageSize[1])] or features [\(config.numCameras), \(config.head.inChannels), h, w], and lidar2img [\(config.numCameras), 4, 4]")
        }
        return .images
    }

    /// Runs one sample. `inputs` holds the image input (`images` or `features`, as built) and
    /// `lidar2img`; both must be finite f32 of the exact shapes (or images as u8 codes, see
    /// `imageQuantization`). `source` names the file in errors.
    /// Where the official head would `nan_to_num` a non-finite decoder output, this throws instead.
    public func run(_ inputs: [String: Tensor], source: String) throws -> PETROutputs {
        let n = config.numCameras
        let imageName = built.input.name
        guard let image = inputs[imageName] else {
            throw OnboardError.format(path: source, item: imageName, reason: "missing (this model was built for \(imageName))")
        }
        let expected = built.inputShapes[imageName] ?? []
        if image.dtype == .u8, imageQuantization != nil {
            guard image.shape == expected else {
                throw OnboardError.format(path: source, item: imageName, reason: "u8 codes \(image.shape), the model expects \(expected)")
            }
        } else {
            try Self.check(image, name: imageName, shape: expected, source: source)
        }
        guard let lidar2img = inputs["lidar2img"] else {
            throw OnboardError.format(path: source, item: "lidar2img", reason: "missing (expected f32 [\(n), 4, 4])")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        func since(_ t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) * 1e-9 }
        let coords = try coords3d(lidar2img: lidar2img, source: source)
        let graphStart = DispatchTime.now().uptimeNanoseconds
        let geometrySeconds = since(start)
        let outputs = try runner.run([imageName: image, "coords3d": coords])
        let graphSeconds = since(graphStart)
        let decodeStart = DispatchTime.now().uptimeNanoseconds
        let decoded = try decode(graphOutputs: outputs, coords3d: coords, source: source)
        lastTimings = (geometrySeconds, graphSeconds, since(decodeStart))
        return decoded
    }

    /// The position-embedding input `coords3d` [N, depth_num * 3, h, w] of `lidar2img` [N, 4, 4].
    public func coords3d(lidar2img: Tensor, source: String) throws -> Tensor {
        try Self.check(lidar2img, name: "lidar2img", shape: [config.numCameras, 4, 4], source: source)
        return try PETRGeometry.positionInput(head: config.head, imageSize: config.imageSize, featureSize: built.featureSize,
                                              lidar2img: lidar2img, source: source, threads: threads)
    }

    /// Decodes the graph's outputs (`cls_scores`, `bbox_raw`, `pos_embed`, `memory`, f32 of the
    /// graph's shapes, computed here or by another runtime) as the official head does; `source`
    /// names them in errors.
    public func decode(graphOutputs outputs: [String: Tensor], coords3d: Tensor, source: String) throws -> PETROutputs {
        func output(_ name: String) throws -> Tensor {
            let shape = built.graph.value(named: name).map { built.graph.info($0).shape } ?? []
            guard let tensor = outputs[name] else {
                throw OnboardError.format(path: source, item: name, reason: "missing (expected f32 \(shape))")
            }
            guard tensor.dtype == .f32, tensor.shape == shape else {
                throw OnboardError.format(path: source, item: name, reason: "\(tensor.dtype) \(tensor.shape), the model's output is f32 \(shape)")
            }
            return tensor
        }
        let classes = try output("cls_scores"), raw = try output("bbox_raw")
        for (name, tensor) in [("cls_scores", classes), ("bbox_raw", raw)] {
            if let bad = tensor.firstNonFiniteIndex {
                throw OnboardError.format(path: source, item: name, reason: "element \(bad) is not finite (inputs out of the model's range?)")
            }
        }
        let predictions = try PETRDecoding.bboxPredictions(raw: raw, referencePoints: built.referencePoints, pcRange: config.head.pcRange)
        let detections = try PETRDecoding.decode(classScores: classes, bboxPredictions: predictions, head: config.head)
        return PETROutputs(allClassScores: classes, bboxRaw: raw, allBboxPredictions: predictions, detections: detections,
                           coords3d: coords3d, posEmbed: try output("pos_embed"), memory: try output("memory"))
    }

    private static func check(_ tensor: Tensor, name: String, shape: [Int], source: String) throws {
        guard tensor.dtype == .f32, tensor.shape == shape else {
            throw OnboardError.format(path: source, item: name, reason: "\(tensor.dtype) \(tensor.shape), the model expects f32 \(shape)")
        }
        try tensor.requireFinite(name: name, source: source)
    }
}
