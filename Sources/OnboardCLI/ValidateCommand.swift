import ArgumentParser
import OnboardKit

/// `onboard validate`: a PETR bundle in FP32 and INT8 on a camera set, with a report a person opens offline.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Quantize a PETR bundle and compare it with FP32 on a camera set: metrics, per-layer error, latency, memory.",
        discussion: """
            Calibrates the float bundle on --calibration (a recorded nuScenes-layout set: its split named like \
            'train', or every sample; or a directory or manifest of input .safetensors files with images plus \
            coords3d or lidar2img), writes the quantized bundle to OUT/model-int8, runs detection in FP32 and INT8 \
            over the evaluation split (--split, default: a split named like 'val', else every sample) into \
            OUT/results_fp32.json and OUT/results_int8.json, scores both with the nuScenes metric, diagnoses the \
            INT8 error per layer (accumulated and isolated SQNR) on --diagnosis-samples samples, tries the worst \
            layers in float, and writes OUT/report.json, OUT/report.md and OUT/index.html. When the split has no \
            annotations, INT8 is scored against the FP32 detections (score >= 0.3) as pseudo ground truth. OUT is \
            replaced whole at the end; it must be absent, empty or an earlier Onboard output holding nothing else \
            (--force replaces any directory), and may not hold or lie inside an input.
            """)

    @Option(help: "Float PETR bundle (with a backbone and preprocess settings).") var model: String
    @Option(help: "nuScenes dataroot of the evaluation set (holds VERSION/).") var data: String
    @Option(help: "Table version directory (default: the only one under --data).") var version: String?
    @Option(help: "Evaluation split in VERSION/splits.json (default: one named like 'val', else every sample).") var split: String?
    @Option(help: "Calibration set: a recorded set directory, or a directory or manifest of input .safetensors files.")
    var calibration: String?
    @Option(help: "An INT8 bundle of --model already calibrated (onboard quantize, or merged quantize parts), used instead of calibrating.")
    var quantized: String?
    @Option(help: DeltaOption.help) var delta: String?
    @Option(help: "Split of a recorded calibration set (default: one named like 'train', else every sample).")
    var calibrationSplit: String?
    @Option(help: "Use at most this many calibration samples (spread over a recorded split).") var calibrationSamples: Int?
    @Option(help: "Quantization recipe (JSON; default: the recipe the bundle names, else Configs/recipes/int8-per-tensor.json).")
    var recipe: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "Samples of the evaluation split for the per-layer diagnosis.") var diagnosisSamples: Int = 2
    @Option(help: "Samples timed FP32 and INT8 in turn, twice each (0: no latency figures).") var latencySamples: Int = 20
    @Option(help: "Paired bootstrap replicates for the interval of the INT8 drop (0: none).") var bootstrap: Int = 200
    @Option(help: "Report directory.") var out: String
    @Flag(help: "Replace OUT even when it holds files Onboard did not write.") var force = false
    @Option(help: ShardOption.help, transform: ShardOption.parse) var shard: Shard?

    mutating func validate() throws {
        if let calibrationSamples, calibrationSamples < 1 { throw ValidationError("--calibration-samples must be >= 1") }
        guard diagnosisSamples >= 0 else { throw ValidationError("--diagnosis-samples must be >= 0") }
        guard latencySamples >= 0 else { throw ValidationError("--latency-samples must be >= 0") }
        guard bootstrap >= 0 else { throw ValidationError("--bootstrap must be >= 0") }
        guard (calibration == nil) != (quantized == nil) else { throw ValidationError("give one of --calibration and --quantized") }
        if shard != nil, delta != nil { throw ValidationError("--delta runs whole, not in shards; drop --shard or merge the delta into a bundle") }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        var options = ValidationOptions(model: model, data: data, calibration: calibration ?? "", out: out)
        (options.quantized, options.delta) = (quantized, delta)
        (options.version, options.split, options.calibrationSplit) = (version, split, calibrationSplit)
        (options.calibrationSamples, options.recipe, options.threads) = (calibrationSamples, recipe, threads)
        (options.diagnosisSamples, options.bootstrapReplicates, options.force) = (diagnosisSamples, bootstrap, force)
        options.latencySamples = latencySamples
        if let shard {
            let part = try ValidationShard.run(options, shard: shard)
            ProgressLog.standardError.line("validate: wrote part \(shard) \(out): \(part.samples) of \(part.of) samples")
            return
        }
        let report = try ValidationRun.run(options)
        ProgressLog.standardError.line("validate: wrote \(out)")
        print(report.headline(out: out))
    }
}
