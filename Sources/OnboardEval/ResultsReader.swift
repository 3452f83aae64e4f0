import Foundation
import OnboardCore

/// A detection submission in the official results format:
/// `{"meta": {...}, "results": {sample_token: [box, ...]}}`.
public struct DetectionResults: Sendable {
    /// The `meta` object, echoed into the metrics summary as the devkit does.
    public var meta: JSONValue
    /// Boxes per sample token, in file order.
    public var boxesBySample: [String: [EvalBox]]

    /// The devkit's predefined split names (`create_splits_scenes`).
    public static let predefinedSplits: Set<String> = ["train", "val", "test", "mini_train", "mini_val", "train_detect", "train_track"]

    /// The boxes of `sampleTokens`, in that order; throws naming the first split sample the file
    /// lacks. As devkit 1.2.0's `DetectionEval`: for a predefined split (`split` in
    /// `predefinedSplits`) every sample of the file must be in the split ("Samples in split doesn't
    /// match samples in predictions"); a custom split reads its own samples only
    /// (`load_prediction_of_sample_tokens`), so the file's others are left out (`outside(split:)`).
    public func boxes(forSplit sampleTokens: [String], named split: String? = nil, path: String) throws -> EvalBoxes {
        let missing = sampleTokens.filter { boxesBySample[$0] == nil }
        if let first = missing.first {
            throw OnboardError.format(path: path, item: "results",
                                      reason: "missing sample token \(first) (\(missing.count) of the split's \(sampleTokens.count) samples are absent; every sample must be present, with [] when it has no boxes)")
        }
        if let split, Self.predefinedSplits.contains(split) {
            let outside = outside(split: sampleTokens)
            if let first = outside.first {
                throw OnboardError.format(path: path, item: "results",
                                          reason: "sample token \(first) is not in split '\(split)' (\(outside.count) samples outside it); the devkit refuses predictions outside a predefined split")
            }
        }
        var boxes = EvalBoxes()
        for token in sampleTokens { boxes.add(boxesBySample[token] ?? [], to: token) }
        return boxes
    }

    /// The file's sample tokens that are not among `sampleTokens`, sorted.
    public func outside(split sampleTokens: [String]) -> [String] {
        let inSplit = Set(sampleTokens)
        return boxesBySample.keys.filter { !inSplit.contains($0) }.sorted()
    }
}

/// Reads and validates a results file with the devkit's rules (`load_prediction`, `DetectionBox`), and
/// a few more that would otherwise crash or silently mislead the devkit.
public enum ResultsReader {
    public static func read(path: String, maxBoxesPerSample: Int = DetectionConfig.cvpr2019.maxBoxesPerSample) throws -> DetectionResults {
        let data = try InputFile.read(path)
        return try read(bytes: [UInt8](data), path: path, maxBoxesPerSample: maxBoxesPerSample)
    }

    /// Decodes box by box (a full nuScenes submission has millions of boxes; no whole-file tree is kept).
    public static func read(bytes: [UInt8], path: String,
                            maxBoxesPerSample: Int = DetectionConfig.cvpr2019.maxBoxesPerSample) throws -> DetectionResults {
        var parser = JSONParser(bytes: bytes, path: path)
        guard parser.peek() == UInt8(ascii: "{") else {
            throw OnboardError.format(path: path, item: nil, reason: "must be a JSON object with `meta` and `results`")
        }
        var meta: JSONValue?
        var boxesBySample: [String: [EvalBox]]?
        try parser.parseObjectMembers { key, parser in
            switch key {
            case "results": boxesBySample = try samples(&parser, path: path, maxBoxesPerSample: maxBoxesPerSample)
            case "meta": meta = try parser.parseValue()
            default: _ = try parser.parseValue()
            }
        }
        try parser.finish()
        guard let boxesBySample else {
            throw OnboardError.format(path: path, item: nil, reason: "no field `results` (the official submission format)")
        }
        guard let meta, meta.object != nil else {
            throw OnboardError.format(path: path, item: "meta", reason: "missing or not an object (use_camera, use_lidar, ...)")
        }
        return DetectionResults(meta: meta, boxesBySample: boxesBySample)
    }

    /// The `results` object: sample token -> array of boxes.
    static func samples(_ parser: inout JSONParser, path: String, maxBoxesPerSample: Int) throws -> [String: [EvalBox]] {
        guard parser.peek() == UInt8(ascii: "{") else {
            let value = try parser.parseValue()
            throw OnboardError.format(path: path, item: "results",
                                      reason: "must be an object of sample token -> boxes, got \(value.kindName)")
        }
        var boxesBySample: [String: [EvalBox]] = [:]
        try parser.parseObjectMembers { token, parser in
            guard parser.peek() == UInt8(ascii: "[") else {
                throw OnboardError.format(path: path, item: "sample \(token)", reason: "must be an array of boxes")
            }
            var boxes: [EvalBox] = []
            var count = 0
            try parser.parseArrayElements { parser in
                let value = try parser.parseValue()
                if count < maxBoxesPerSample {
                    boxes.append(try box(value, sampleToken: token, item: "sample \(token) box \(count)", path: path))
                }
                count += 1
            }
            guard count <= maxBoxesPerSample else {
                throw OnboardError.format(path: path, item: "sample \(token)",
                                          reason: "\(count) boxes; at most \(maxBoxesPerSample) per sample are allowed")
            }
            boxesBySample[token] = boxes  // a repeated key replaces the earlier one, as in Python's json
        }
        return boxesBySample
    }

    /// One box (`DetectionBox.deserialize` and its asserts).
    static func box(_ value: JSONValue, sampleToken: String, item: String, path: String) throws -> EvalBox {
        func fail(_ reason: String) -> OnboardError { OnboardError.format(path: path, item: item, reason: reason) }
        guard let fields = value.object else { throw fail("must be an object, got \(value.kindName)") }
        func numbers(_ key: String, count: Int, allowNaN: Bool = false) throws -> [Double] {
            guard let array = fields[key]?.array else { throw fail("missing or non-array `\(key)`") }
            let values = array.compactMap(\.number)
            guard values.count == array.count, values.count == count else {
                throw fail("`\(key)` must have \(count) numbers")
            }
            guard allowNaN ? values.allSatisfy({ !$0.isInfinite }) : values.allFinite else {
                throw fail("`\(key)` must be finite\(allowNaN ? " (or NaN)" : "")")
            }
            return values
        }
        func text(_ key: String) throws -> String {
            guard let string = fields[key]?.string else { throw fail("missing or non-string `\(key)`") }
            return string
        }
        let boxToken = try text("sample_token")
        guard boxToken == sampleToken else { throw fail("sample_token \(boxToken) differs from its results key") }
        let translation = try numbers("translation", count: 3)
        let size = try numbers("size", count: 3)
        guard size.allSatisfy({ $0 > 0 }) else { throw fail("`size` must be > 0") }
        let rotation = try numbers("rotation", count: 4)
        guard rotation.contains(where: { $0 != 0 }) else { throw fail("`rotation` is the zero quaternion") }
        // The devkit allows NaN velocities (they count as unknown, like ground truth without neighbours).
        let velocity = try numbers("velocity", count: 2, allowNaN: true)
        let name = try text("detection_name")
        guard DetectionConstants.detectionNames.contains(name) else {
            throw fail("unknown detection_name \(name) (one of \(DetectionConstants.detectionNames.joined(separator: ", ")))")
        }
        guard let score = fields["detection_score"]?.number, score.isFinite else {
            throw fail("missing or non-finite `detection_score`")
        }
        let attribute = try text("attribute_name")
        guard attribute.isEmpty || DetectionConstants.attributeNames.contains(attribute) else {
            throw fail("unknown attribute_name \(attribute) (one of \(DetectionConstants.attributeNames.joined(separator: ", ")) or \"\")")
        }
        return EvalBox(sampleToken: sampleToken, translation: SIMD3(translation[0], translation[1], translation[2]),
                       size: SIMD3(size[0], size[1], size[2]),
                       rotation: SIMD4(rotation[0], rotation[1], rotation[2], rotation[3]),
                       velocity: SIMD2(velocity[0], velocity[1]), detectionName: name, detectionScore: score,
                       attributeName: attribute)
    }
}
