import Foundation
import OnboardCore

/// Writes a nuScenes detection submission (`{"meta": ..., "results": {token: [box, ...]}}`) atomically.
public enum ResultsWriter {
    public static let cameraOnlyMeta: [String: Bool] = [
        "use_camera": true, "use_lidar": false, "use_radar": false, "use_map": false, "use_external": false,
    ]

    public static func write(_ results: [String: [SubmissionBox]], to path: String,
                             meta: [String: Bool] = cameraOnlyMeta) throws {
        var document: [String: Any] = ["meta": meta]
        document["results"] = results.mapValues { $0.map(json) }
        let data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        } catch {
            throw OnboardError.format(path: path, item: nil, reason: "results are not representable as JSON (non-finite value?)")
        }
        try AtomicFile(path: path).write(bytes: [UInt8](data))
    }

    static func json(_ box: SubmissionBox) -> [String: Any] {
        [
            "sample_token": box.sampleToken,
            "translation": [box.translation.x, box.translation.y, box.translation.z],
            "size": [box.size.x, box.size.y, box.size.z],
            "rotation": box.rotation.nuScenes,
            "velocity": [box.velocity.x, box.velocity.y],
            "detection_name": box.detectionName,
            "detection_score": box.detectionScore,
            "attribute_name": box.attributeName,
        ]
    }
}
