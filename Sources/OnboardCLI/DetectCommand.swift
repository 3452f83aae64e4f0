import ArgumentParser
import Foundation
import OnboardKit

/// `onboard detect`: PETR 3D detection over a recorded camera set, written as a nuScenes submission.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Run a PETR bundle over a nuScenes-layout camera set and write nuScenes detection results.",
        discussion: """
            Reads DIR/VERSION/*.json and the camera JPEGs of every key-frame sample (or of split S from \
            DIR/VERSION/splits.json), preprocesses them as PETR's test pipeline does, runs the model and \
            exports the boxes with mmdet3d 0.17's conventions. --precision int8 needs a quantized bundle \
            (onboard quantize or onboard validate writes one). --json prints the per-stage median \
            milliseconds per frame (decode, preprocess, backbone, position_embedding, decoder, postprocess).
            """)

    @Option(help: "PETR model bundle directory.") var model: String
    @Option(help: "nuScenes dataroot (holds VERSION/).") var data: String
    @Option(help: "Table version directory (default: the only one under --data).") var version: String?
    @Option(help: "Split name in VERSION/splits.json (default: every sample).") var split: String?
    @Option(help: "fp32, or int8 for a quantized bundle.") var precision: Precision = .fp32
    @Option(help: "Results file to write (nuScenes submission JSON); with --shard, the part directory.") var out: String
    @Option(help: ShardOption.help, transform: ShardOption.parse) var shard: Shard?
    @Option(help: DeltaOption.help) var delta: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Flag(help: "Leave out samples with a broken table link or image (warned on stderr).") var skipBad = false
    @Flag(help: "Print per-stage timing as JSON on stdout.") var json = false

    mutating func validate() throws {
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        var request = CameraSetDetection.Request(model: model, data: data, out: out)
        (request.version, request.split, request.precision) = (version, split, precision)
        (request.threads, request.skipBad, request.shard, request.delta) = (threads, skipBad, shard, delta)
        let summary = try CameraSetDetection.run(request)
        let stages = summary.stageMs
        let written = shard.map { "part \($0) " } ?? ""
        ProgressLog.standardError.line("detect: wrote \(written)\(out): \(summary.samples) samples, \(summary.boxes) boxes, "
            + String(format: "%.1f ms per frame", stages["total"] ?? 0))
        if json {
            let document: [String: Any] = ["model": model, "delta": delta ?? NSNull(), "precision": precision.rawValue, "samples": summary.samples,
                                           "threads": threads, "stage_ms": stages]
            print(String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
        } else {
            for name in DetectionStages.names + ["total"] {
                print(String(format: "%-20@ %8.2f ms", name as NSString, stages[name] ?? 0))
            }
        }
    }
}
