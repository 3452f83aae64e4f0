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

            To score the exported model in another runtime (onboard export-onnx; ONNX Runtime, TensorRT): \
            --record-graph DIR also writes each sample's graph tensors to DIR/<sample token>.safetensors \
            (inputs images and coords3d, lidar2img, outputs cls_scores, bbox_raw, pos_embed, memory; f32); \
            run the other runtime on those inputs and write its four outputs, by the same names, to \
            OUT/<sample token>.safetensors; then --graph-outputs OUT decodes and exports them instead of \
            running the graph.
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
    @Option(help: "Also write each sample's graph inputs and outputs to DIR/<sample token>.safetensors.") var recordGraph: String?
    @Option(help: "Do not run the graph: decode the outputs another runtime wrote to DIR/<sample token>.safetensors.") var graphOutputs: String?
    @Flag(help: "Leave out samples with a broken table link or image (warned on stderr).") var skipBad = false
    @Flag(help: "Print per-stage timing as JSON on stdout.") var json = false

    mutating func validate() throws {
        threads = try ThreadOption.clamped(threads)
        if recordGraph != nil && graphOutputs != nil {
            throw ValidationError("--record-graph and --graph-outputs exclude each other")
        }
        if shard != nil && (recordGraph != nil || graphOutputs != nil) {
            throw ValidationError("--shard does not go with --record-graph or --graph-outputs")
        }
    }

    func run() throws {
        var request = CameraSetDetection.Request(model: model, data: data, out: out)
        (request.version, request.split, request.precision) = (version, split, precision)
        (request.threads, request.skipBad, request.shard, request.delta) = (threads, skipBad, shard, delta)
        request.exchange = recordGraph.map { .record(directory: $0) } ?? graphOutputs.map { .replay(directory: $0) }
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
