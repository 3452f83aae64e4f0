import ArgumentParser
import OnboardKit

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize", abstract: "Calibrate a float bundle and write an INT8 bundle (int8 weights, quant.json).")

    @Option(help: "Float model bundle directory.") var model: String
    @Option(help: "Calibration set: a directory of input .safetensors files or a manifest (Calibration/*.json); for a PETR bundle with a backbone also a recorded camera set.")
    var calibration: String
    @Option(help: "Split of a recorded camera set (default: one named like 'train', else every sample).") var calibrationSplit: String?
    @Option(help: "Quantization recipe (JSON; default: the recipe the bundle names, else Configs/recipes/int8-per-tensor.json).")
    var recipe: String?
    @Option(help: "Output bundle directory (absent, empty or an earlier Onboard output; see --force).") var out: String
    @Flag(help: "Replace OUT even when it holds files Onboard did not write.") var force = false
    @Option(help: "Use at most this many calibration samples.") var calibrationSamples: Int?
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: ShardOption.help, transform: ShardOption.parse) var shard: Shard?
    @Option(help: DeltaOption.help) var delta: String?

    mutating func validate() throws {
        if let calibrationSamples, calibrationSamples < 1 { throw ValidationError("--calibration-samples must be >= 1") }
        if shard != nil, delta != nil { throw ValidationError("--delta runs whole, not in shards; drop --shard or merge the delta into a bundle") }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        var request = BundleQuantization.Request(model: model, calibration: calibration, out: out)
        (request.recipe, request.force, request.calibrationSamples, request.threads) = (recipe, force, calibrationSamples, threads)
        (request.calibrationSplit, request.delta) = (calibrationSplit, delta)
        if let shard {
            let observed = try BundleQuantization.run(request, shard: shard)
            ProgressLog.standardError.line("quantize: wrote part \(shard) \(out): \(observed) calibration samples observed")
        } else {
            try BundleQuantization.run(request)
        }
    }
}
