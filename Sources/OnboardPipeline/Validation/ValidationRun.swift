import Foundation
import OnboardCore
import OnboardEval
import OnboardGraph
import OnboardModels
import OnboardSensors

/// What `onboard validate` (and `onboard demo`) asks of a validation.
struct ValidationOptions {
    var model: String
    var data: String
    /// Table version under `data` (default: the only one).
    var version: String?
    /// Evaluation split (default: a split named like "val", else every sample).
    var split: String?
    /// A recorded set directory, or a directory / manifest of input `.safetensors` files.
    var calibration: String
    /// The recorded calibration set's split (default: a split named like "train", else every sample).
    var calibrationSplit: String?
    var calibrationSamples: Int?
    /// Recipe file (default: Configs/recipes/int8-per-tensor.json).
    var recipe: String?
    var threads: Int = Parallel.coreCount
    /// Samples of the evaluation split the per-layer diagnosis runs on.
    var diagnosisSamples = 2
    /// Worst isolated layers tried in float for the suggested exclusions.
    var exclusionCandidates = 3
    /// Paired bootstrap replicates behind the drop's interval (0: none).
    var bootstrapReplicates = 200
    /// The report directory (replaced whole at the end).
    var out: String
    /// Replace `out` even when Onboard did not write it.
    var force = false
}

/// FP32 vs INT8 on a camera set: calibrate, quantize (bundle in OUT/model-int8), detect in both
/// precisions (OUT/results_fp32.json, results_int8.json), score, diagnose per layer, and write the
/// report (OUT/report.json, report.md, index.html). Everything is written into a staging directory
/// beside OUT that replaces it at the end; a failure leaves OUT as it was.
enum ValidationRun {
    static let int8Bundle = "model-int8"
    static let fp32Results = "results_fp32.json"
    static let int8Results = "results_int8.json"

    /// What one precision's detection pass measured.
    struct Pass {
        var peakRSS: Int
        var weightBytes: Int
        var activationBytes: Int
        var floatOps: [String] = []
    }

    static func run(_ options: ValidationOptions) throws -> ValidationReport {
        // Inputs first: a wrong bundle, recipe or set is reported before any work.
        let bundle = try ModelBundle(directory: options.model)
        try checkFloatPETR(bundle)
        let recipePath = try options.recipe ?? Resources.path("Configs/recipes/int8-per-tensor.json")
        let recipe = try QuantizationRecipe.load(path: recipePath)
        let version = try DetectCommand.resolveVersion(data: options.data, version: options.version)
        let tables = try NuScenesTables(dataroot: options.data, version: version)
        let (splitName, tokens) = try evaluationSamples(tables, split: options.split)
        try OutputPath.checkDirectory(options.out, inputs: [.init("--model", options.model), .init("--data", options.data),
                                                            .init("--calibration", options.calibration)]
                                      + (options.recipe.map { [.init("--recipe", $0)] } ?? []))
        let staging = try StagingDirectory(target: options.out, force: options.force)
        do {
            let report = try measure(options, bundle: bundle, recipe: recipe, recipePath: recipePath, tables: tables,
                                     split: splitName, tokens: tokens, staging: staging)
            try ValidationReportWriter.write(report, to: staging.path)
            try staging.commit()
            return report
        } catch {
            staging.discard()
            throw error
        }
    }

    static func checkFloatPETR(_ bundle: ModelBundle) throws {
        guard case let .petr(config) = bundle.architecture else {
            throw OnboardError.invalidArgument("\(bundle.directory): not a PETR bundle (validate runs PETR detectors)")
        }
        guard config.backbone != nil else {
            throw OnboardError.invalidArgument("\(bundle.directory): the PETR bundle has no backbone; validate runs camera images through one")
        }
        if try QuantizedBundle.plan(of: bundle) != nil {
            throw OnboardError.invalidArgument("\(bundle.directory): already quantized (it has \(QuantizedBundle.planFile)); validate the float bundle")
        }
    }

    /// The split to score: `split`, else one named "val" or like it, else every sample (sample.json order).
    static func evaluationSamples(_ tables: NuScenesTables, split: String?) throws -> (name: String, tokens: [String]) {
        let names = (try tables.customSplits() ?? [:]).keys.sorted()
        if let name = split ?? names.first(where: { $0 == "val" }) ?? names.first(where: { $0.lowercased().contains("val") }) {
            return (name, try GroundTruth.sampleTokens(tables: tables, split: name))
        }
        let tokens = tables.sample.records.map(\.token)
        guard !tokens.isEmpty else { throw OnboardError.format(path: tables.tablesDirectory, item: "sample.json", reason: "no samples") }
        return ("all samples", tokens)
    }

    static func measure(_ options: ValidationOptions, bundle: ModelBundle, recipe: QuantizationRecipe, recipePath: String,
                        tables: NuScenesTables, split: String, tokens: [String], staging: StagingDirectory) throws -> ValidationReport {
        let float = try floatPhase(options, bundle: bundle, recipe: recipe, recipePath: recipePath, tables: tables,
                                   tokens: tokens, staging: staging)
        let int8Path = staging.file(int8Bundle)
        let int8 = try int8Phase(options, bundlePath: int8Path, tables: tables, tokens: tokens, staging: staging)
        let latency = try latencyPhase(options, bundle: bundle, int8Path: int8Path, tables: tables, tokens: tokens)
        StandardError.line("validate: scoring \(tokens.count) samples")
        let scores = try ValidationScoring.score(tables: tables, sampleTokens: tokens, fp32Results: staging.file(fp32Results),
                                                 int8Results: staging.file(int8Results),
                                                 bootstrapReplicates: options.bootstrapReplicates)
        StandardError.line("validate: per-layer diagnosis on \(float.diagnosisInputs.count) samples")
        let quantizedBundle = try ModelBundle(directory: int8Path)
        let diagnosis = try ValidationDiagnosis.run(
            reference: try bundle.graph(batch: 1), quantized: try quantizedBundle.graph(batch: 1), plan: float.plan,
            planSource: (int8Path as NSString).appendingPathComponent(QuantizedBundle.planFile), inputs: float.diagnosisInputs,
            candidates: options.exclusionCandidates, threads: options.threads)
        func perStage(_ stages: [String: Double]) -> [String: Double] { stages.filter { $0.key != "total" } }
        return ValidationReport(
            model: options.model, dataset: "\(options.data) (\(tables.version))", split: split, sampleCount: tokens.count,
            pseudoGroundTruth: scores.pseudoGroundTruth, fp32: scores.fp32, int8: scores.int8,
            latencyMs: .init(fp32: latency.fp32["total"] ?? .nan, int8: latency.int8["total"] ?? .nan), latencyFrames: latency.frames,
            stageLatencyMs: .init(fp32: perStage(latency.fp32), int8: perStage(latency.int8)), stageOrder: DetectionStages.names,
            peakMemoryBytes: .init(fp32: float.pass.peakRSS, int8: int8.peakRSS),
            weightsBytes: .init(fp32: float.pass.weightBytes, int8: int8.weightBytes),
            activationPeakBytes: .init(fp32: float.pass.activationBytes, int8: int8.activationBytes),
            layers: diagnosis.layers, suggestedExclusions: diagnosis.exclusions, floatOps: int8.floatOps,
            dropInterval: scores.dropInterval)
    }

    /// Calibration, the quantized bundle, the diagnosis inputs and FP32 detection, all with the FP32
    /// pipeline (released on return, before the INT8 pass is measured).
    static func floatPhase(_ options: ValidationOptions, bundle: ModelBundle, recipe: QuantizationRecipe, recipePath: String,
                           tables: NuScenesTables, tokens: [String], staging: StagingDirectory)
        throws -> (plan: QuantizationPlan, diagnosisInputs: [[String: Tensor]], pass: Pass) {
        let pipeline = try DetectionPipeline(bundle: bundle, threads: options.threads)
        let graph = pipeline.model.built.graph
        try recipe.validate(against: graph, source: recipePath)
        let calibration = try ValidationCalibration.open(
            path: options.calibration, version: options.version, split: options.calibrationSplit, limit: options.calibrationSamples,
            pipeline: pipeline)
        let diagnosisSamples = try pipeline.reader(tables: tables).samples(tokens: Array(tokens.prefix(options.diagnosisSamples))).samples
        StandardError.line("validate: calibrating on \(calibration.count) samples of \(calibration.description) "
            + "(\(recipe.observer.rawValue) observer)")
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: calibration.count, threads: options.threads,
                                            sample: calibration.sample,
                                            progress: { StandardError.progress("validate: calibration", $0, $1) })
        try saveQuantized(bundle: bundle, graph: graph, plan: plan, threads: options.threads, to: staging.file(int8Bundle))
        let diagnosisInputs = try diagnosisSamples.map { try pipeline.graphInputs($0) }
        let pass = try detect(pipeline, label: "validate: FP32 detection", tables: tables, tokens: tokens,
                              results: staging.file(fp32Results))
        return (plan, diagnosisInputs, pass)
    }

    static func saveQuantized(bundle: ModelBundle, graph: Graph, plan: QuantizationPlan, threads: Int, to path: String) throws {
        let executor = try Int8Executor(graph: graph, plan: plan, threads: threads)
        try QuantizedBundle.save(source: bundle, plan: plan, weights: executor.quantizedWeights(), to: path)
        StandardError.line("validate: quantized bundle: \(executor.integerOps.count) integer ops, \(executor.floatOps.count) float ops, \(executor.precomputedOps.count) computed once from constants")
    }

    /// INT8 detection with the quantized bundle just written, as `onboard detect --precision int8` runs it.
    static func int8Phase(_ options: ValidationOptions, bundlePath: String, tables: NuScenesTables, tokens: [String],
                          staging: StagingDirectory) throws -> Pass {
        let bundle = try ModelBundle(directory: bundlePath)
        let executor = try DetectCommand.executor(bundle: bundle, precision: .int8, threads: options.threads)
        let pipeline = try DetectionPipeline(bundle: bundle, threads: options.threads, executor: executor)
        return try detect(pipeline, label: "validate: INT8 detection", tables: tables, tokens: tokens,
                          results: staging.file(int8Results))
    }

    /// FP32 and INT8 frames in turn on the first samples of the split (`PairedLatency`).
    static func latencyPhase(_ options: ValidationOptions, bundle: ModelBundle, int8Path: String, tables: NuScenesTables,
                             tokens: [String]) throws -> PairedLatency.Result {
        let fp32 = try DetectionPipeline(bundle: bundle, threads: options.threads)
        let quantized = try ModelBundle(directory: int8Path)
        let int8 = try DetectionPipeline(bundle: quantized, threads: options.threads,
                                         executor: try DetectCommand.executor(bundle: quantized, precision: .int8, threads: options.threads))
        let samples = try fp32.reader(tables: tables).samples(tokens: Array(tokens.prefix(PairedLatency.defaultSamples))).samples
        return try PairedLatency.measure(fp32: fp32, int8: int8, samples: samples, label: "validate: latency, FP32 and INT8 in turn")
    }

    /// Detection over the split with the peak resident size measured from its start.
    static func detect(_ pipeline: DetectionPipeline, label: String, tables: NuScenesTables, tokens: [String],
                       results: String) throws -> Pass {
        ProcessStats.resetPeak()
        let output = try DetectionRun.run(pipeline: pipeline, tables: tables, tokens: tokens, skipBad: false, label: label)
        let peak = ProcessStats.peakResidentBytes
        try ResultsWriter.write(output.results, to: results)
        var pass = Pass(peakRSS: peak, weightBytes: 0, activationBytes: 0)
        if let int8 = pipeline.model.runner as? Int8Executor {
            pass.weightBytes = int8.weightBytes
            pass.activationBytes = int8.memoryPlan.arenaBytes
            pass.floatOps = int8.floatOps
        } else if let fp32 = pipeline.model.runner as? FP32Executor {
            pass.weightBytes = fp32.plan.weightBytes
            pass.activationBytes = fp32.plan.arenaBytes
        }
        return pass
    }
}
