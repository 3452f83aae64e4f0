import Foundation
import OnboardCore

/// A PETR detector (megvii-research/PETR, mmdet3d 0.17), as written in a bundle's `config.json`
/// with `"architecture": "petr"`. Sizes the official code hard-codes are derived from
/// `head.embed_dims` (256 reproduces them); see /work/petr-design.md.
public struct PETRConfig: Codable, Sendable, Equatable {
    /// Cameras per sample (N): the images (or feature maps) of one sample.
    public var numCameras: Int
    /// Padded network input [H, W]; the pixel grid of the 3D position embedding.
    public var imageSize: [Int]
    /// The image backbone; nil for a head-only bundle that takes feature maps.
    public var backbone: BackboneConfig?
    public var neck: NeckConfig?
    public var head: Head
    public var preprocess: Preprocess?
    /// Label index -> class name; as many as `head.num_classes`.
    public var classNames: [String]?

    public struct Head: Codable, Sendable, Equatable {
        public var inChannels: Int
        public var embedDims: Int
        public var numHeads: Int
        public var ffnDims: Int
        public var numLayers: Int
        public var numQuery: Int
        public var numClasses: Int
        public var depthNum: Int
        public var depthStart: Float
        /// Linear-increasing depth bins (the official `LID=True`); false: uniform bins.
        public var lid: Bool
        /// x, y, z minimum then maximum: normalizes the frustum points; [3] is the far depth.
        public var positionRange: [Float]
        /// Scales the box centres (NMSFreeCoder `pc_range`).
        public var pcRange: [Float]
        public var maxNum: Int
        /// Boxes whose centre leaves it are dropped; nil (`null`) keeps every box.
        public var postCenterRange: [Float]?
        /// Boxes scoring at most this are dropped; nil or 0 disables it (the official `if score_threshold:`).
        public var scoreThreshold: Float?
        public var layerNormEps: Float
        /// "petr": the official position embedding; "qfpe": Q-PETR's quantization-friendly one.
        public var pe: String
        /// QFPE's settings when `pe` is "qfpe".
        public var qfpe: QFPE?

        /// Q-PETR's QFPE as Onboard implements it (the paper leaves these open; see
        /// `PETRGeometry.qfpeWeights`): one point per pixel ray at `depth` metres, and per axis
        /// (x, y, z in the lidar frame) linear interpolation between the embeddings of `anchors[axis]`.
        public struct QFPE: Codable, Sendable, Equatable {
            public var depth: Float
            public var anchors: [[Float]]
        }

        enum CodingKeys: String, CodingKey {
            case inChannels = "in_channels", embedDims = "embed_dims", numHeads = "num_heads", ffnDims = "ffn_dims"
            case numLayers = "num_layers", numQuery = "num_query", numClasses = "num_classes", depthNum = "depth_num"
            case depthStart = "depth_start", lid, positionRange = "position_range", pcRange = "pc_range"
            case maxNum = "max_num", postCenterRange = "post_center_range", scoreThreshold = "score_threshold"
            case layerNormEps = "layer_norm_eps", pe, qfpe
        }

        public static let officialPositionRange: [Float] = [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0]
        public static let officialPCRange: [Float] = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            inChannels = try c.decode(Int.self, forKey: .inChannels)
            embedDims = try c.decode(Int.self, forKey: .embedDims)
            numHeads = try c.decode(Int.self, forKey: .numHeads)
            ffnDims = try c.decode(Int.self, forKey: .ffnDims)
            numLayers = try c.decode(Int.self, forKey: .numLayers)
            numQuery = try c.decode(Int.self, forKey: .numQuery)
            numClasses = try c.decode(Int.self, forKey: .numClasses)
            depthNum = try c.decode(Int.self, forKey: .depthNum)
            depthStart = try c.decodeIfPresent(Float.self, forKey: .depthStart) ?? 1
            lid = try c.decodeIfPresent(Bool.self, forKey: .lid) ?? true
            positionRange = try c.decodeIfPresent([Float].self, forKey: .positionRange) ?? Self.officialPositionRange
            pcRange = try c.decodeIfPresent([Float].self, forKey: .pcRange) ?? Self.officialPCRange
            maxNum = try c.decodeIfPresent(Int.self, forKey: .maxNum) ?? 300
            // Absent: the official value (= position_range); explicit null: no centre filter.
            if c.contains(.postCenterRange) {
                postCenterRange = try c.decodeNil(forKey: .postCenterRange) ? nil : try c.decode([Float].self, forKey: .postCenterRange)
            } else {
                postCenterRange = positionRange
            }
            scoreThreshold = try c.decodeIfPresent(Float.self, forKey: .scoreThreshold)
            layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-5
            pe = try c.decodeIfPresent(String.self, forKey: .pe) ?? "petr"
            qfpe = try c.decodeIfPresent(QFPE.self, forKey: .qfpe)
        }

        /// Writes every field; `post_center_range` and `score_threshold` as explicit nulls when
        /// unset (an absent post_center_range would read back as position_range).
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(inChannels, forKey: .inChannels)
            try c.encode(embedDims, forKey: .embedDims)
            try c.encode(numHeads, forKey: .numHeads)
            try c.encode(ffnDims, forKey: .ffnDims)
            try c.encode(numLayers, forKey: .numLayers)
            try c.encode(numQuery, forKey: .numQuery)
            try c.encode(numClasses, forKey: .numClasses)
            try c.encode(depthNum, forKey: .depthNum)
            try c.encode(depthStart, forKey: .depthStart)
            try c.encode(lid, forKey: .lid)
            try c.encode(positionRange, forKey: .positionRange)
            try c.encode(pcRange, forKey: .pcRange)
            try c.encode(maxNum, forKey: .maxNum)
            if let postCenterRange { try c.encode(postCenterRange, forKey: .postCenterRange) } else { try c.encodeNil(forKey: .postCenterRange) }
            if let scoreThreshold { try c.encode(scoreThreshold, forKey: .scoreThreshold) } else { try c.encodeNil(forKey: .scoreThreshold) }
            try c.encode(layerNormEps, forKey: .layerNormEps)
            try c.encode(pe, forKey: .pe)
            try c.encodeIfPresent(qfpe, forKey: .qfpe)
        }

        public var headDim: Int { embedDims / numHeads }
        /// Sine features per axis of both the 3D sine encoding and pos2posemb3d (official: 128).
        public var sineFeatures: Int { embedDims / 2 }
        /// Channels of coords3d: depth_num * 3, ordered depth * 3 + axis; for QFPE the interpolation
        /// weights, ordered axis-major (axis * anchors + anchor).
        public var positionChannels: Int {
            if pe == "qfpe", let qfpe { return qfpe.anchors.reduce(0) { $0 + $1.count } }
            return depthNum * 3
        }
        /// Box code: cx, cy, log w, log l, cz, log h, sin, cos, vx, vy.
        public static let codeSize = 10

        func validate(path: String) throws {
            func fail(_ field: String, _ reason: String) -> OnboardError {
                .format(path: path, item: "head.\(field)", reason: reason)
            }
            func checkRange(_ values: [Float], _ field: String) throws {
                guard values.count == 6, values.allFinite else {
                    throw fail(field, "must be 6 finite numbers [x_min, y_min, z_min, x_max, y_max, z_max]")
                }
                guard (0..<3).allSatisfy({ values[$0] < values[$0 + 3] }) else {
                    throw fail(field, "each minimum must be below its maximum, got \(values)")
                }
            }
            guard inChannels > 0 else { throw fail("in_channels", "must be > 0") }
            guard embedDims > 0, embedDims % 4 == 0 else {
                throw fail("embed_dims", "\(embedDims) must be a positive multiple of 4 (sin/cos pairs of embed_dims/2 features per axis)")
            }
            guard numHeads > 0, embedDims % numHeads == 0 else {
                throw fail("num_heads", "\(numHeads) must divide embed_dims \(embedDims)")
            }
            guard ffnDims > 0 else { throw fail("ffn_dims", "must be > 0") }
            guard numLayers > 0 else { throw fail("num_layers", "must be > 0") }
            guard numQuery > 0 else { throw fail("num_query", "must be > 0") }
            guard numClasses > 0 else { throw fail("num_classes", "must be > 0") }
            guard depthNum > 0 else { throw fail("depth_num", "must be > 0") }
            try checkRange(positionRange, "position_range")
            try checkRange(pcRange, "pc_range")
            if let postCenterRange { try checkRange(postCenterRange, "post_center_range") }
            guard depthStart.isFinite, depthStart > 0, depthStart < positionRange[3] else {
                throw fail("depth_start", "\(depthStart) must be > 0 and below the far depth position_range[3] = \(positionRange[3])")
            }
            try MemoryLimit.requireAllocatable([numQuery, numClasses], item: "head.num_classes", path: path)
            try MemoryLimit.requireAllocatable([numQuery, max(embedDims, ffnDims)], item: "head.num_query", path: path)
            try MemoryLimit.requireAllocatable([ffnDims, embedDims], item: "head.ffn_dims", path: path)
            try MemoryLimit.requireAllocatable([depthNum, 3], item: "head.depth_num", path: path)
            guard maxNum > 0, maxNum <= numQuery * numClasses else {
                throw fail("max_num", "\(maxNum) must be in 1...num_query * num_classes = \(numQuery * numClasses)")
            }
            if let scoreThreshold, !scoreThreshold.isFinite { throw fail("score_threshold", "must be a finite number or null") }
            guard layerNormEps.isFinite, layerNormEps > 0 else { throw fail("layer_norm_eps", "must be > 0") }
            switch pe {
            case "petr": break
            case "qfpe":
                guard let qfpe else { throw fail("qfpe", "missing (pe 'qfpe' needs depth and anchors)") }
                guard qfpe.depth.isFinite, qfpe.depth > 0 else { throw fail("qfpe.depth", "must be > 0") }
                guard qfpe.anchors.count == 3 else { throw fail("qfpe.anchors", "needs one list per axis (x, y, z)") }
                for (axis, anchors) in qfpe.anchors.enumerated() {
                    guard anchors.count >= 2, anchors.allFinite, zip(anchors, anchors.dropFirst()).allSatisfy({ $0 < $1 }) else {
                        throw fail("qfpe.anchors[\(axis)]", "needs at least 2 finite, strictly increasing positions")
                    }
                }
            default:
                throw fail("pe", "'\(pe)' is not supported ('petr', the official position embedding, or 'qfpe')")
            }
        }
    }

    /// Camera image preprocessing (read by the sensor layer; checked here for consistency).
    public struct Preprocess: Codable, Sendable, Equatable {
        public var sourceSize: [Int]?
        public var mean: [Float]
        public var std: [Float]
        public var toRGB: Bool

        enum CodingKeys: String, CodingKey { case sourceSize = "source_size", mean, std, toRGB = "to_rgb" }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sourceSize = try c.decodeIfPresent([Int].self, forKey: .sourceSize)
            mean = try c.decodeIfPresent([Float].self, forKey: .mean) ?? [0, 0, 0]
            std = try c.decodeIfPresent([Float].self, forKey: .std) ?? [1, 1, 1]
            toRGB = try c.decodeIfPresent(Bool.self, forKey: .toRGB) ?? false
        }
    }

    enum CodingKeys: String, CodingKey {
        case numCameras = "num_cameras", imageSize = "image_size", backbone, neck, head, preprocess
        case classNames = "class_names"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numCameras = try c.decode(Int.self, forKey: .numCameras)
        imageSize = try c.decode([Int].self, forKey: .imageSize)
        backbone = try c.decodeIfPresent(BackboneConfig.self, forKey: .backbone)
        neck = try c.decodeIfPresent(NeckConfig.self, forKey: .neck)
        head = try c.decode(Head.self, forKey: .head)
        preprocess = try c.decodeIfPresent(Preprocess.self, forKey: .preprocess)
        classNames = try c.decodeIfPresent([String].self, forKey: .classNames)
    }

    /// Decodes `config.json` bytes; a decoding failure names `path` and the field.
    public static func decode(_ data: Data, path: String) throws -> PETRConfig {
        try JSONInput.decode(PETRConfig.self, from: data, path: path)
    }

    /// Rejects configurations the builder cannot honour; the error names `path` and the field.
    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError { .format(path: path, item: field, reason: reason) }
        guard numCameras > 0 else { throw fail("num_cameras", "must be > 0") }
        guard imageSize.count == 2, imageSize.allSatisfy({ $0 > 0 }) else { throw fail("image_size", "must be [H, W] > 0") }
        try head.validate(path: path)
        try MemoryLimit.requireAllocatable([numCameras, imageChannels, imageSize[0], imageSize[1]], item: "image_size", path: path)
        if let backbone {
            try BackboneBuilder.validate(backbone: backbone, neck: neck, path: path)
            let channels = BackboneBuilder.outputChannels(backbone: backbone, neck: neck)
            guard channels == head.inChannels else {
                throw fail("head.in_channels", "\(head.inChannels) differ from the \(channels) channels of the backbone's feature map")
            }
            let size = BackboneBuilder.featureSize(backbone: backbone, neck: neck, imageSize: imageSize)
            guard size.count == 2, size.allSatisfy({ $0 > 0 }) else {
                throw fail("image_size", "\(imageSize) gives an empty feature map \(size)")
            }
            try requireAllocatable(featureSize: size, path: path)
        } else if neck != nil {
            throw fail("neck", "a neck needs a backbone")
        }
        if let preprocess {
            guard preprocess.mean.count == 3, preprocess.std.count == 3, preprocess.std.allSatisfy({ $0.isFinite && $0 > 0 }),
                  preprocess.mean.allFinite else {
                throw fail("preprocess", "mean and std must be 3 finite numbers each, std > 0")
            }
            if let size = preprocess.sourceSize, size.count != 2 || !size.allSatisfy({ $0 > 0 }) {
                throw fail("preprocess.source_size", "must be [H, W] > 0")
            }
        }
        if let classNames, classNames.count != head.numClasses {
            throw fail("class_names", "\(classNames.count) names for num_classes \(head.numClasses)")
        }
    }

    /// The head's largest tensors on a feature map of `size`: the position embedding input and the
    /// decoder's cross-attention over every camera's tokens.
    func requireAllocatable(featureSize size: [Int], path: String) throws {
        try MemoryLimit.requireAllocatable([numCameras, head.positionChannels, size[0], size[1]], item: "head.depth_num", path: path)
        guard let tokens = MemoryLimit.product([numCameras, size[0], size[1]]) else {
            throw OnboardError.format(path: path, item: "image_size", reason: "\(numCameras) cameras of \(size) features overflow a token count")
        }
        try MemoryLimit.requireAllocatable([tokens, max(head.embedDims, head.inChannels)], item: "image_size", path: path)
        try MemoryLimit.requireAllocatable([head.numHeads, head.numQuery, tokens], item: "head.num_query", path: path)
    }

    /// Channels of the images the backbone takes.
    public var imageChannels: Int { backbone?.family.imageChannels ?? 3 }

    /// [h, w] of the feature map the head gets from images; nil without a backbone.
    public var featureSize: [Int]? {
        guard let backbone else { return nil }
        return BackboneBuilder.featureSize(backbone: backbone, neck: neck, imageSize: imageSize)
    }
}
