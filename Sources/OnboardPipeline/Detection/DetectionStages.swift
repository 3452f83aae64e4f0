import Foundation
import OnboardGraph

/// Per-frame wall time of the detection stages, accumulated over frames.
public struct DetectionStages: Sendable {
    public static let names = ["decode", "preprocess", "backbone", "position_embedding", "decoder", "postprocess"]

    public private(set) var frames: [[String: Double]] = []

    public mutating func add(_ frame: [String: Double]) { frames.append(frame) }

    /// Median milliseconds per frame of each stage, and of the whole frame under "total".
    public var medianMilliseconds: [String: Double] {
        var out: [String: Double] = [:]
        for name in Self.names + ["total"] {
            let values = frames.map { name == "total" ? $0.values.reduce(0, +) : $0[name, default: 0] }.sorted()
            guard !values.isEmpty else { continue }
            let mid = values.count / 2
            out[name] = 1000 * (values.count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2)
        }
        return out
    }

    /// Splits a graph run's profile into the stages by node name: the backbone (and neck) under
    /// `img_backbone.` / `img_neck.`, the position embedding (position encoder, QFPE, 3D sine
    /// adapter) and everything else of the head as decoder. The graph's own wall time is shared
    /// out in proportion, so that stages add up to the measured run.
    public static func graphStages(profile: Profiler, wallSeconds: Double) -> [String: Double] {
        var sums = ["backbone": 0.0, "position_embedding": 0.0, "decoder": 0.0]
        for record in profile.records {
            sums[stage(ofNode: record.node), default: 0] += record.seconds
        }
        let total = sums.values.reduce(0, +)
        guard total > 0 else { return ["decoder": wallSeconds] }
        return sums.mapValues { $0 / total * wallSeconds }
    }

    public static func stage(ofNode name: String) -> String {
        if name.hasPrefix("img_backbone") || name.hasPrefix("img_neck") { return "backbone" }
        for marker in ["position_encoder", "qfpe", "adapt_pos3d", "pos3d", "pos_embed", "coords3d"] where name.contains(marker) {
            return "position_embedding"
        }
        return "decoder"
    }
}
