import OnboardCore
import OnboardGraph

/// The image input of a PETR graph.
public enum PETRInput: Sendable, Equatable {
    /// `images` [N, C, H, W] (C = the backbone's input channels) through the bundle's backbone and neck.
    case images
    /// `features` [N, head.in_channels, height, width]: the feature map the head uses.
    case features(height: Int, width: Int)

    /// The graph input's name.
    public var name: String {
        switch self {
        case .images: return "images"
        case .features: return "features"
        }
    }
}

/// A built PETR graph and what the runner needs beside it.
public struct PETRGraph: Sendable {
    public let graph: Graph
    public let config: PETRConfig
    public let input: PETRInput
    /// [h, w] of the feature map (and of `coords3d`).
    public let featureSize: [Int]
    /// `reference_points.weight` [Q, 3] as stored (used raw, no sigmoid), row-major.
    public let referencePoints: [Float]

    /// Input names and shapes: the image input and `coords3d` [N, depth_num * 3, h, w].
    public var inputShapes: [String: [Int]] {
        graph.inputs.reduce(into: [:]) { $0[graph.info($1).name] = graph.info($1).shape }
    }
}

/// Builds the PETR head graph (official PETRHead, mmdet3d 0.17) for one sample of
/// `num_cameras` images, weights under the official `pts_bbox_head.` names.
///
/// Inputs: `images` [N, C, H, W] or `features` [N, in_channels, h, w], and `coords3d`
/// [N, depth_num * 3, h, w] (from `PETRGeometry.coords3d`). The 3D sine encoding through
/// `adapt_pos3d`, and `query_embedding(pos2posemb3d(reference_points))`, depend only on shapes
/// and weights: they are evaluated here (`PETRConstantLayers`, the same on every CPU) and enter the graph as the constants
/// `pts_bbox_head.pos3d_adapt` and `pts_bbox_head.query_pos`.
///
/// Outputs: `cls_scores` [L, Q, num_classes] (logits), `bbox_raw` [L, Q, 10] (raw reg-branch
/// output), `pos_embed` [N*h*w, E] and `memory` [N*h*w, E] (input_proj output), tokens in
/// (camera, row, column) order.
public enum PETRBuilder {
    public static let prefix = "pts_bbox_head"

    public static func build(config: PETRConfig, weights: WeightStore, input: PETRInput,
                             threads: Int = Parallel.coreCount) throws -> PETRGraph {
        let m = ModuleBuilder(graph: GraphBuilder(), weights: weights)
        let g = m.graph
        let head = config.head, n = config.numCameras, e = head.embedDims
        let features = try featureMap(config, m, input)
        let (fh, fw) = (g.shape(features)[2], g.shape(features)[3])
        let coords = try g.input("coords3d", shape: [n, head.positionChannels, fh, fw])

        let projected = try m.conv2d("\(prefix).input_proj", features, out: e, kernel: 1, params: Conv2dParams())
        let memory = try tokens(g, projected, name: "memory")

        let encoded = try positionEncoder(head, m, coords)
        let adapt = try g.constant("\(prefix).pos3d_adapt", try adaptedSineEncoding(config, weights, height: fh, width: fw, threads: threads))
        let position = try g.node(.add, [encoded, adapt], name: "\(prefix).pos3d")
        let posEmbed = try tokens(g, position, name: "pos_embed")

        let references = try floatParameter(weights, "\(prefix).reference_points.weight", shape: [head.numQuery, 3])
        let queryPos = try g.constant("\(prefix).query_pos", try queryEmbedding(head, weights, references, threads: threads))

        let outputs = try PETRDecoderBuilder(module: m, head: head, prefix: prefix)
            .build(memory: memory, posEmbed: posEmbed, queryPos: queryPos)
        g.markOutput(outputs.classes)
        g.markOutput(outputs.boxes)
        g.markOutput(posEmbed)
        g.markOutput(memory)

        if weights.contains("\(prefix).code_weights") {
            _ = try weights.take("\(prefix).code_weights", shape: [PETRConfig.Head.codeSize])  // training only
        }
        let skipped = input == .images ? [] : ["\(BackboneBuilder.backbonePrefix).", "\(BackboneBuilder.neckPrefix)."]
        try weights.finish(ignoring: skipped)
        return PETRGraph(graph: try g.build(), config: config, input: input, featureSize: [fh, fw],
                         referencePoints: references.floats())
    }

    /// The feature map [N, in_channels, h, w]: the `features` input, or `images` through the backbone.
    private static func featureMap(_ config: PETRConfig, _ m: ModuleBuilder, _ input: PETRInput) throws -> ValueID {
        let g = m.graph, n = config.numCameras, channels = config.head.inChannels
        switch input {
        case let .features(height, width):
            guard height > 0, width > 0 else {
                throw OnboardError.invalidArgument("features must have a non-empty [h, w], got [\(height), \(width)]")
            }
            return try g.input("features", shape: [n, channels, height, width])
        case .images:
            guard let backbone = config.backbone else {
                throw OnboardError.model(item: "backbone", reason: "the bundle has none: give features [N, \(channels), h, w] instead of images")
            }
            let images = try g.input("images", shape: [n, config.imageChannels, config.imageSize[0], config.imageSize[1]])
            let map = try BackboneBuilder.featureMap(backbone: backbone, neck: config.neck, images: images, module: m)
            let shape = g.shape(map)
            guard shape.count == 4, shape[0] == n, shape[1] == channels, shape[2] > 0, shape[3] > 0 else {
                throw OnboardError.model(item: "backbone", reason: "feature map \(shape), the head expects [\(n), \(channels), h, w]")
            }
            return map
        }
    }

    /// [N, E, h, w] -> tokens [N*h*w, E] in (camera, row, column) order.
    /// The official MLP on inverse-sigmoid frustum points, or QFPE's anchor embeddings: a 1x1 conv
    /// without bias over the interpolation weights (a convex combination per axis, so the embedding
    /// stays within the anchors' range).
    private static func positionEncoder(_ head: PETRConfig.Head, _ m: ModuleBuilder, _ coords: ValueID) throws -> ValueID {
        let e = head.embedDims
        if head.pe == "qfpe" {
            return try m.conv2d("\(prefix).qfpe", coords, out: e, kernel: 1, params: Conv2dParams(), bias: false)
        }
        var encoded = try m.conv2d("\(prefix).position_encoder.0", coords, out: 4 * e, kernel: 1, params: Conv2dParams())
        encoded = try m.graph.node(.relu, [encoded], name: "\(prefix).position_encoder.1")
        return try m.conv2d("\(prefix).position_encoder.2", encoded, out: e, kernel: 1, params: Conv2dParams())
    }

    private static func tokens(_ g: GraphBuilder, _ map: ValueID, name: String) throws -> ValueID {
        let s = g.shape(map)
        let permuted = try g.node(.permute([0, 2, 3, 1]), [map], name: "\(name).nhwc")
        return try g.node(.reshape([s[0] * s[2] * s[3], s[1]]), [permuted], name: name)
    }

    /// `adapt_pos3d(SinePositionalEncoding3D(mask))` of the all-zero mask: [N, E, h, w].
    static func adaptedSineEncoding(_ config: PETRConfig, _ weights: WeightStore, height: Int, width: Int, threads: Int) throws -> Tensor {
        let e = config.head.embedDims, n = config.numCameras
        let sine = PETRGeometry.sineEncoding3D(cameras: n, height: height, width: width, numFeats: config.head.sineFeatures)
        let rows = try PETRConstantLayers.dense(PETRConstantLayers.rows(ofMap: sine), width: sine.shape[1],
                                                modules: ["\(prefix).adapt_pos3d.0", "\(prefix).adapt_pos3d.2"], outWidths: [4 * e, e],
                                                convolution: true, weights: weights, threads: threads)
        return try PETRConstantLayers.map(ofRows: rows, cameras: n, channels: e, height: height, width: width)
    }

    /// `query_embedding(pos2posemb3d(reference_points))`: [Q, E].
    static func queryEmbedding(_ head: PETRConfig.Head, _ weights: WeightStore, _ references: Tensor, threads: Int) throws -> Tensor {
        let e = head.embedDims
        let embedded = PETRGeometry.pos2posemb3d(references.floats(), numFeats: head.sineFeatures)
        let rows = try PETRConstantLayers.dense(embedded.floats(), width: embedded.shape[1],
                                                modules: ["\(prefix).query_embedding.0", "\(prefix).query_embedding.2"], outWidths: [e, e],
                                                convolution: false, weights: weights, threads: threads)
        return try Tensor(shape: [head.numQuery, e], values: rows)
    }

    /// A weight as f32 (int8 codes of a quantized bundle dequantized).
    static func floatParameter(_ weights: WeightStore, _ name: String, shape: [Int]) throws -> Tensor {
        let tensor = try weights.take(name, shape: shape)
        guard tensor.dtype == .i8, let scales = weights.scales[name] else { return tensor }
        return QuantizedWeight(codes: tensor, scales: scales).dequantized()
    }
}
