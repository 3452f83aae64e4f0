import Foundation
import OnboardCore

/// Writes a nuScenes detection submission (`{"meta": ..., "results": {token: [box, ...]}}`) atomically.
/// The JSON is written directly (keys sorted, numbers in Swift's shortest round-trip form): a set of
/// 100 samples holds 30 000 boxes, which Foundation's JSONSerialization took seconds to write.
public enum ResultsWriter {
    public static let cameraOnlyMeta: [String: Bool] = [
        "use_camera": true, "use_lidar": false, "use_radar": false, "use_map": false, "use_external": false,
    ]

    public static func write(_ results: [String: [SubmissionBox]], to path: String,
                             meta: [String: Bool] = cameraOnlyMeta) throws {
        try AtomicFile(path: path).write { sink in try document(results, meta: meta, path: path, to: &sink) }
    }

    /// The submission's UTF-8 JSON, handed to `sink` one sample at a time (a whole document of a long
    /// run would be held twice, as text and as bytes); `path` names the file in the error a
    /// non-finite number raises.
    static func document(_ results: [String: [SubmissionBox]], meta: [String: Bool], path: String,
                         to sink: inout AtomicFile.Sink) throws {
        var out = SubmissionText()
        out.header(meta: meta)
        for (i, token) in results.keys.sorted().enumerated() {
            out.sampleKey(token, first: i == 0)
            try sink.append(out.take())
            try sink.append(sampleArray(results[token] ?? [], path: path))
        }
        out.append("}}")
        try sink.append(out.take())
    }

    /// One sample's boxes as the JSON array under its token.
    static func sampleArray(_ boxes: [SubmissionBox], path: String) throws -> [UInt8] {
        var out = SubmissionText()
        out.append("[")
        for (j, box) in boxes.enumerated() {
            if j > 0 { out.append(",") }
            try box.write(to: &out, path: path)
        }
        out.append("]")
        return out.take()
    }
}

private extension SubmissionBox {
    /// The box as an object with its keys in sorted order.
    func write(to out: inout SubmissionText, path: String) throws {
        func numbers(_ values: [Double]) throws {
            out.append("[")
            for (i, v) in values.enumerated() {
                if i > 0 { out.append(",") }
                try out.number(v, path: path, item: sampleToken)
            }
            out.append("]")
        }
        out.append("{\"attribute_name\":")
        out.string(attributeName)
        out.append(",\"detection_name\":")
        out.string(detectionName)
        out.append(",\"detection_score\":")
        try out.number(detectionScore, path: path, item: sampleToken)
        out.append(",\"rotation\":")
        try numbers(rotation.nuScenes)
        out.append(",\"sample_token\":")
        out.string(sampleToken)
        out.append(",\"size\":")
        try numbers([size.x, size.y, size.z])
        out.append(",\"translation\":")
        try numbers([translation.x, translation.y, translation.z])
        out.append(",\"velocity\":")
        try numbers([velocity.x, velocity.y])
        out.append("}")
    }
}

/// A submission's JSON text built up piece by piece.
struct SubmissionText {
    private(set) var text = ""

    mutating func append(_ piece: String) { text += piece }

    /// The text so far as UTF-8, leaving the builder empty.
    mutating func take() -> [UInt8] {
        defer { text = "" }
        return Array(text.utf8)
    }

    mutating func string(_ value: String) { text += JSONText.quoted(value) }

    /// `{"meta":{...},"results":{`, the meta's keys sorted.
    mutating func header(meta: [String: Bool]) {
        append("{\"meta\":{")
        for (i, key) in meta.keys.sorted().enumerated() {
            if i > 0 { append(",") }
            string(key)
            append(meta[key] == true ? ":true" : ":false")
        }
        append("},\"results\":{")
    }

    /// A sample's key in `results`, after a comma unless it is the first.
    mutating func sampleKey(_ token: String, first: Bool) {
        if !first { append(",") }
        string(token)
        append(":")
    }

    /// A finite number in its shortest round-trip form (integral values keep their ".0").
    mutating func number(_ value: Double, path: String, item: String) throws {
        guard value.isFinite else {
            throw OnboardError.format(path: path, item: "sample \(item)", reason: "a box holds \(value), which JSON cannot represent")
        }
        text += "\(value)"
    }
}
