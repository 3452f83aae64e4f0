import OnboardCore
import OnboardSensors

/// Ground truth of one split as the devkit sees it (`load_gt_of_sample_tokens` + what `add_center_dist`
/// and `filter_eval_boxes` read from the database).
public struct GroundTruth: Sendable {
    /// The split's samples in `sample.json` order (`get_samples_of_scenes`).
    public var sampleTokens: [String]
    /// Boxes of the detection classes, per sample in `sample_annotation.json` order.
    public var boxes: EvalBoxes
    /// Translation of each sample's LIDAR_TOP key-frame ego pose.
    public var egoTranslations: [String: SIMD3<Double>]
    /// The `static_object.bicycle_rack` annotations of each sample.
    public var bicycleRacks: [String: [EvalBox]]

    public init(sampleTokens: [String], boxes: EvalBoxes, egoTranslations: [String: SIMD3<Double>],
                bicycleRacks: [String: [EvalBox]]) {
        self.sampleTokens = sampleTokens; self.boxes = boxes
        self.egoTranslations = egoTranslations; self.bicycleRacks = bicycleRacks
    }

    /// Loads the custom split `split` (a key of `dataroot/version/splits.json`) from the tables.
    public init(tables: NuScenesTables, split: String) throws {
        try self.init(tables: tables, sampleTokens: try Self.sampleTokens(tables: tables, split: split))
    }

    /// The LIDAR_TOP ego position of a sample (what class ranges are measured from).
    static func egoTranslation(tables: NuScenesTables, sample token: String) throws -> SIMD3<Double> {
        let pose = try tables.lidarEgoPose(ofSample: token)
        guard pose.translation.count == 3 else {
            throw OnboardError.format(path: tables.tablesDirectory + "/ego_pose.json", item: "ego_pose \(pose.token)",
                                      reason: "translation must have 3 elements")
        }
        return SIMD3(pose.translation[0], pose.translation[1], pose.translation[2])
    }

    /// Loads the ground truth of the given samples (e.g. every sample of a set without splits).
    public init(tables: NuScenesTables, sampleTokens tokens: [String]) throws {
        let path = tables.tablesDirectory + "/sample_annotation.json"
        var boxes = EvalBoxes()
        var ego: [String: SIMD3<Double>] = [:]
        var racks: [String: [EvalBox]] = [:]
        for token in tokens {
            ego[token] = try Self.egoTranslation(tables: tables, sample: token)
            var sampleBoxes: [EvalBox] = []
            for annotation in tables.annotations(ofSample: token) {
                let category = tables.categoryName(of: annotation) ?? ""
                let detectionName = DetectionConstants.detectionName(forCategory: category)
                guard detectionName != nil || category == DetectionConstants.bicycleRackCategory else { continue }
                let item = "sample_annotation \(annotation.token)"
                guard annotation.translation.count == 3, annotation.size.count == 3, annotation.rotation.count == 4 else {
                    throw OnboardError.format(path: path, item: item,
                                              reason: "translation, size and rotation must have 3, 3 and 4 elements")
                }
                let attributes = tables.attributeNames(of: annotation)
                guard attributes.count <= 1 || detectionName == nil else {
                    throw OnboardError.format(path: path, item: item, reason: "has \(attributes.count) attributes (at most 1)")
                }
                let velocity = tables.velocity(of: annotation)
                let box = EvalBox(
                    sampleToken: token,
                    translation: SIMD3(annotation.translation[0], annotation.translation[1], annotation.translation[2]),
                    size: SIMD3(annotation.size[0], annotation.size[1], annotation.size[2]),
                    rotation: SIMD4(annotation.rotation[0], annotation.rotation[1], annotation.rotation[2],
                                    annotation.rotation[3]),
                    velocity: SIMD2(velocity.x, velocity.y),
                    numPoints: annotation.num_lidar_pts + annotation.num_radar_pts,
                    detectionName: detectionName ?? category, attributeName: attributes.first ?? "")
                if detectionName != nil { sampleBoxes.append(box) } else { racks[token, default: []].append(box) }
            }
            boxes.add(sampleBoxes, to: token)
        }
        self.init(sampleTokens: tokens, boxes: boxes, egoTranslations: ego, bicycleRacks: racks)
    }

    /// The samples of the scenes a custom split names, in `sample.json` order (the devkit's order, which
    /// decides ties between equal scores).
    public static func sampleTokens(tables: NuScenesTables, split: String) throws -> [String] {
        let path = tables.tablesDirectory + "/splits.json"
        guard let splits = try tables.customSplits() else {
            throw OnboardError.io(path: path, reason: "missing: the split \(split) must be listed there (custom splits)")
        }
        guard let sceneNames = splits[split] else {
            throw OnboardError.format(path: path, item: split,
                                      reason: "no such split (have \(splits.keys.sorted().joined(separator: ", ")))")
        }
        let names = Set(sceneNames)
        let tokens = tables.sample.records.filter { sample in
            tables.scene[sample.scene_token].map { names.contains($0.name) } ?? false
        }.map(\.token)
        guard !tokens.isEmpty else {
            throw OnboardError.format(path: path, item: split, reason: "the split's scenes have no samples")
        }
        return tokens
    }
}
