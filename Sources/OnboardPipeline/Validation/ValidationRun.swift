import Foundation
import OnboardCore
import OnboardEval
import OnboardGraph
import OnboardModels
import OnboardSensors

/// FP32 vs INT8 on a camera set: calibrate, quantize (bundle in OUT/model-int8), detect in both
/// precisions (OUT/results_fp32.json, results_int8.json), score, diagnose per layer, and write the
/// report (OUT/report.json, report.md, index.html). Everything is written into a staging directory
/// beside OUT that replaces it at the end; a failure leaves OUT as it was.
public struct ValidationRun {
    public static let int8Bundle = "model-int8"
    public static let fp32Results = "results_fp32.json"
    public static let int8Results = "results_int8.json"

    /// What one precision's detection pass measured.
    struct Pass {
        var peakRSS: Int
        var weightBytes: Int
        var activationBytes: Int
        var floatOps: [String] = []
        var lowBitWeightBytes: Int?
        var lowBitOutlierFraction: Double?
    }

    let options: ValidationOptions
    let log: ProgressLog

    public static func run(_ options: ValidationOptions, log: ProgressLog = .standardError) throws -> ValidationReport {
        try ValidationRun(options: options, log: log).run()
    }

    func run() throws -> ValidationReport {
        let inputs = try Inputs(options)
        let staging = try StagingDirectory(target: options.out, force: options.force)
        do {
            let report = try measure(inputs, staging: staging)
            try ValidationReportWriter.write(report, to: staging.path)
            try staging.commit()
            return report
        } catch {
            staging.discard()
            throw error
        }
    }

    /// What a validation reads, opened and checked before any work: a wrong bundle, recipe or set
    /// is reported first.
    struct Inputs {
        var bundle: ModelBundle
        /// The recipe to calibrate with; nil with a quantized bundle given.
        var recipe: RecipeChoice?
        var quantized: ModelBundle?
        var tables: NuScenesTables
        var split: String
        var tokens: [String]

        init(_ options: ValidationOptions) throws {
            bundle = try ModelBundle(directory: options.model)
            try ValidationRun.checkFloatPETR(bundle)
            if let delta = options.delta { try bundle.apply(delta: delta) }
            if let path = options.quantized {
                guard options.recipe == nil else {
                    throw OnboardError.invalidArgument("--recipe: the quantized bundle \(path) carries its recipe; give one of --recipe and --quantized")
                }
                let quantized = try ModelBundle(directory: path)
                guard try QuantizedBundle.plan(of: quantized) != nil else {
                    throw OnboardError.invalidArgument("--quantized: \(path) has no \(QuantizedBundle.planFile); give a bundle onboard quantize wrote")
                }
                self.quantized = quantized
            } else {
                recipe = try RecipeChoice(requested: options.recipe, bundle: bundle)
            }
            let version = try NuScenesTables.resolveVersion(dataroot: options.data, version: options.version)
            tables = try NuScenesTables(dataroot: options.data, version: version)
            (split, tokens) = try ValidationRun.evaluationSamples(tables, split: options.split)
            guard !tokens.isEmpty else {
                throw OnboardError.format(path: tables.tablesDirectory, item: "split \(split)", reason: "no samples to validate")
            }
            let named: [OutputPath.Input] = [.init("model", options.model), .init("data", options.data)]
                + (options.quantized == nil ? [.init("calibration", options.calibration)] : [])
                + (options.recipe.map { [.init("recipe", $0)] } ?? []) + (options.quantized.map { [.init("quantized", $0)] } ?? [])
                + (options.delta.map { [.init("delta", $0)] } ?? [])
            try OutputPath.checkDirectory(options.out, option: "out", inputs: named)
        }
    }

    static func checkFloatPETR(_ bundle: ModelBundle) throws {
        guard let config = bundle.model as? PETRConfig else {
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

    func measure(_ inputs: Inputs, staging: StagingDirectory) throws -> ValidationReport {
        let (tables, tokens) = (inputs.tables, inputs.tokens)
        let float = try floatPhase(inputs, detect: tokens, diagnose: Array(tokens.prefix(options.diagnosisSamples)), staging: staging)
        defer { float.transforms?.remove() }
        let quantizedBundle = try ModelBundle(directory: staging.file(Self.int8Bundle))
        let int8 = try int8Phase(quantizedBundle, tables: tables, tokens: tokens, staging: staging)
        let latency = try latencyPhase(bundle: inputs.bundle, quantized: quantizedBundle, tables: tables, tokens: tokens)
        log.line("validate: scoring \(tokens.count) samples")
        let scores = try ValidationScoring.score(tables: tables, sampleTokens: tokens, fp32Results: staging.file(Self.fp32Results),
                                                 int8Results: staging.file(Self.int8Results),
                                                 bootstrapReplicates: options.bootstrapReplicates, log: log)
        let diagnosis = try diagnose(inputs.bundle, quantized: quantizedBundle, float: float, staging: staging)
        func perStage(_ stages: [String: Double]) -> [String: Double] { stages.filter { $0.key != "total" } }
        var report = ValidationReport(
            model: options.delta.map { "\(options.model) + delta \($0)" } ?? options.model, dataset: "\(options.data) (\(tables.version))", split: inputs.split, sampleCount: tokens.count,
            pseudoGroundTruth: scores.pseudoGroundTruth, fp32: scores.fp32, int8: scores.int8,
            latencyMs: .init(fp32: latency.fp32["total"] ?? .nan, int8: latency.int8["total"] ?? .nan), latencyFrames: latency.frames,
            stageLatencyMs: .init(fp32: perStage(latency.fp32), int8: perStage(latency.int8)), stageOrder: DetectionStages.names,
            peakMemoryBytes: .init(fp32: float.pass.peakRSS, int8: int8.peakRSS),
            weightsBytes: .init(fp32: float.pass.weightBytes, int8: int8.weightBytes),
            activationPeakBytes: .init(fp32: float.pass.activationBytes, int8: int8.activationBytes),
            layers: diagnosis.layers, suggestedExclusions: diagnosis.exclusions, floatOps: int8.floatOps,
            dropInterval: scores.dropInterval, kernels: .current)
        report.lowBitWeightsBytes = int8.lowBitWeightBytes
        report.lowBitOutlierFraction = int8.lowBitOutlierFraction
        return report
    }

    /// Per-layer SQNR of the quantized bundle against the float one on the diagnosis samples.
    func diagnose(_ bundle: ModelBundle, quantized: ModelBundle, float: FloatPhase, staging: StagingDirectory) throws -> ValidationDiagnosis {
        log.line("validate: per-layer diagnosis on \(float.diagnosisInputs.count) samples")
        return try ValidationDiagnosis.run(
            reference: try (float.transforms?.bundle ?? bundle).graph(batch: 1), quantized: try quantized.graph(batch: 1), plan: float.plan,
            planSource: (staging.file(Self.int8Bundle) as NSString).appendingPathComponent(QuantizedBundle.planFile),
            inputs: float.diagnosisInputs, candidates: options.exclusionCandidates, threads: options.threads, log: log)
    }

    struct FloatPhase {
        var plan: QuantizationPlan
        var diagnosisInputs: [[String: Tensor]]
        var pass: Pass
        /// The recipe's rotation or smoothing: the float bundle the INT8 one was quantized from, the
        /// per-layer reference (scratch files, removed by the caller).
        var transforms: FoldedTransforms?
    }

    /// Calibration (or the quantized bundle given), the quantized bundle in the staging directory,
    /// the diagnosis inputs and FP32 detection of `detect`, all with the FP32 pipeline (released on
    /// return, before the INT8 pass is measured).
    func floatPhase(_ inputs: Inputs, detect tokens: [String], diagnose: [String], staging: StagingDirectory) throws -> FloatPhase {
        let pipeline = try DetectionPipeline(bundle: inputs.bundle, threads: options.threads)
        let graph = pipeline.model.built.graph
        let plan: QuantizationPlan
        var transforms: FoldedTransforms?
        var returned = false
        defer { if !returned { transforms?.remove() } }
        if let quantized = inputs.quantized {
            guard let given = try QuantizedBundle.plan(of: quantized) else {
                throw OnboardError.invalidArgument("--quantized: \(quantized.directory) has no \(QuantizedBundle.planFile)")
            }
            plan = given
            try plan.recipe.validate(against: graph, source: quantized.directory)
            try Self.copyBundle(quantized.directory, to: staging.file(Self.int8Bundle))
            transforms = try FoldedTransforms.reference(for: inputs.bundle, quantized: quantized)
            log.line("validate: quantized bundle \(quantized.directory) (calibrated on \(plan.calibrationSamples) samples)")
        } else if let recipe = inputs.recipe {
            try recipe.recipe.validate(against: graph, source: recipe.path)
            let calibration = try ValidationCalibration.open(
                path: options.calibration, version: options.version, split: options.calibrationSplit, limit: options.calibrationSamples,
                pipeline: pipeline, log: log)
            log.line("validate: \(recipe.description)")
            log.line("validate: calibrating on \(calibration.count) samples of \(calibration.description) "
                + "(\(recipe.recipe.observer.rawValue) observer)")
            transforms = try FoldedTransforms.apply(to: inputs.bundle, recipe: recipe.recipe, source: recipe.path, graph: graph,
                                                    count: calibration.count, sample: calibration.sample, threads: options.threads, log: log)
            let source = transforms?.bundle ?? inputs.bundle
            let quantizedGraph = try transforms.map { try DetectionPipeline(bundle: $0.bundle, threads: options.threads).model.built.graph } ?? graph
            plan = try Calibrator.calibrate(graph: quantizedGraph, recipe: recipe.recipe, count: calibration.count, threads: options.threads,
                                            sample: calibration.sample, progress: { log.progress("validate: calibration", $0, $1) })
            let summary = try Quantization.save(bundle: source, graph: quantizedGraph, plan: plan, threads: options.threads,
                                                to: staging.file(Self.int8Bundle))
            log.line("validate: quantized bundle: \(summary.text)")
        } else {
            throw OnboardError.invalidArgument("validate: neither a recipe nor a quantized bundle")
        }
        let diagnosisSamples = try pipeline.reader(tables: inputs.tables).samples(tokens: diagnose).samples
        let diagnosisInputs = try diagnosisSamples.map { try pipeline.graphInputs($0) }
        let pass = try detect(pipeline, label: "validate: FP32 detection", tables: inputs.tables, tokens: tokens,
                              results: staging.file(Self.fp32Results))
        returned = true
        return FloatPhase(plan: plan, diagnosisInputs: diagnosisInputs, pass: pass, transforms: transforms)
    }

    /// The files of the bundle directory `source` (as Onboard wrote it) copied into the new directory `target`.
    static func copyBundle(_ source: String, to target: String) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: target, withIntermediateDirectories: false)
            for name in try manager.contentsOfDirectory(atPath: source).sorted() {
                try manager.copyItem(atPath: (source as NSString).appendingPathComponent(name),
                                     toPath: (target as NSString).appendingPathComponent(name))
            }
        } catch {
            throw OnboardError.io(path: source, reason: "cannot copy the quantized bundle: \(error.localizedDescription)")
        }
    }

    /// INT8 detection with the quantized bundle just written, as detection in int8 precision runs it.
    func int8Phase(_ quantized: ModelBundle, tables: NuScenesTables, tokens: [String], staging: StagingDirectory) throws -> Pass {
        let pipeline = try DetectionPipeline(bundle: quantized, precision: .int8, threads: options.threads)
        return try detect(pipeline, label: "validate: INT8 detection", tables: tables, tokens: tokens,
                          results: staging.file(Self.int8Results))
    }

    /// FP32 and INT8 frames in turn on the first samples of the split (`PairedLatency`).
    func latencyPhase(bundle: ModelBundle, quantized: ModelBundle, tables: NuScenesTables, tokens: [String]) throws -> PairedLatency.Result {
        guard options.latencySamples > 0, !tokens.isEmpty else { return PairedLatency.Result(fp32: [:], int8: [:], frames: 0) }
        let fp32 = try DetectionPipeline(bundle: bundle, threads: options.threads)
        let int8 = try DetectionPipeline(bundle: quantized, precision: .int8, threads: options.threads)
        let samples = try fp32.reader(tables: tables).samples(tokens: Array(tokens.prefix(options.latencySamples))).samples
        return try PairedLatency.measure(fp32: fp32, int8: int8, samples: samples, label: "validate: latency, FP32 and INT8 in turn",
                                         log: log)
    }

    /// Detection over the split with the peak resident size measured from its start, the code
    /// pages of what ran before released first, as `detect` does.
    func detect(_ pipeline: DetectionPipeline, label: String, tables: NuScenesTables, tokens: [String], results: String) throws -> Pass {
        CleanCodePages.release()
        ProcessStats.resetPeak()
        // A shard's slice may be empty (more shards than samples).
        let output = tokens.isEmpty ? DetectionRun.Output()
            : try DetectionRun.run(pipeline: pipeline, tables: tables, tokens: tokens, label: label, log: log)
        let peak = ProcessStats.peakResidentBytes
        try ResultsWriter.write(output.results, to: results)
        let runner = pipeline.model.runner
        let executor = runner as? Int8Executor
        return Pass(peakRSS: peak, weightBytes: runner.weightBytes, activationBytes: runner.memoryPlan.arenaBytes,
                    floatOps: executor?.floatOps ?? [], lowBitWeightBytes: executor?.lowBitWeightBytes,
                    lowBitOutlierFraction: executor?.lowBitOutlierFraction)
    }
}
