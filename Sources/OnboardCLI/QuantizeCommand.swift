import ArgumentParser
import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize", abstract: "Calibrate a float bundle and write an INT8 bundle (int8 weights, quant.json).")

    @Option(help: "Float model bundle directory.") var model: String
    @Option(help: "Calibration set: a directory of input .safetensors files or a manifest (Calibration/*.json).") var calibration: String
    @Option(help: "Quantization recipe (JSON; default Configs/recipes/int8-per-tensor.json).") var recipe: String?
    @Option(help: "Output bundle directory (absent, empty or an earlier Onboard output; see --force).") var out: String
    @Flag(help: "Replace OUT even when it holds files Onboard did not write.") var force = false
    @Option(help: "Use at most this many calibration samples.") var calibrationSamples: Int?
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount

    mutating func validate() throws {
        if let calibrationSamples, calibrationSamples < 1 { throw ValidationError("--calibration-samples must be >= 1") }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        try OutputPath.checkDirectory(out, inputs: [.init("--model", model), .init("--calibration", calibration)]
                                      + (recipe.map { [.init("--recipe", $0)] } ?? []))
        try StagingDirectory.check(out, force: force)
        let bundle = try ModelBundle(directory: model)
        if try QuantizedBundle.plan(of: bundle) != nil {
            throw OnboardError.invalidArgument("\(model): already quantized (it has quant.json); quantize the float bundle")
        }
        let recipePath = try recipe ?? Resources.path("Configs/recipes/int8-per-tensor.json")
        let recipe = try QuantizationRecipe.load(path: recipePath)
        let set = try CalibrationSet(path: calibration)
        let count = min(set.count, calibrationSamples ?? set.count)
        let batch = try bundle.batchSize(for: try SafeTensorsFile(path: set.files[0]).shapes, source: set.files[0])
        let shapes = bundle.inputShapes(batch: batch)
        let graph = try bundle.graph(batch: batch)
        try recipe.validate(against: graph, source: recipePath)
        StandardError.line("quantize: calibrating on \(count) samples (\(recipe.observer.rawValue) observer)")
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: count, threads: threads,
                                            sample: { try set.sample($0, shapes: shapes) },
                                            progress: { done, total in StandardError.progress("calibration", done, total) })
        let executor = try Int8Executor(graph: graph, plan: plan, threads: threads)
        try QuantizedBundle.save(source: bundle, plan: plan, weights: executor.quantizedWeights(), to: out, force: force)
        StandardError.line("quantize: wrote \(out): \(executor.integerOps.count) integer ops, \(executor.floatOps.count) float ops, \(executor.precomputedOps.count) computed once from constants")
    }
}

extension SafeTensorsFile {
    /// Shapes of every tensor, by name.
    var shapes: [String: [Int]] { Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.shape) }) }
}
