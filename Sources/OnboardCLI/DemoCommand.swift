import ArgumentParser
import Foundation
import OnboardCore
import OnboardEval
import OnboardModels
import OnboardSensors

/// The README's main command: the shipped demo PETR on a held-out synthetic camera set, scored,
/// drawn, and the shipped Q-PETR validated in INT8 against FP32 — one report directory.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Detect 3D boxes with the shipped demo PETR on a held-out synthetic set, score them and write a report.",
        discussion: """
            Makes (or reuses) a held-out synthetic set under WORK/data-sSEED with the demo rig \
            (seed 7 is not used in training), runs the FP32 demo PETR on its validation split, scores it \
            with the nuScenes metric, draws a bird's-eye view and the camera images with projected boxes \
            for a few samples, and validates the shipped Q-PETR in per-tensor INT8 against FP32 \
            (calibrated on Calibration/demo-synth-s11.json). Open WORK/report/index.html.
            """)

    @Option(help: "PETR bundle (default: Configs/models/petr-demo).") var model: String?
    @Option(name: .customLong("qpetr-model"), help: "Q-PETR bundle validated in INT8 (default: Configs/models/qpetr-demo).")
    var qpetrModel: String?
    @Option(help: "Working directory for the set and the report.") var work: String = "onboard-demo"
    @Option(help: "Seed of the held-out synthetic set.") var seed: UInt64 = 7
    @Option(help: "Scenes in the held-out set (a fifth form the validation split).") var scenes: Int = 50
    @Option(help: "Samples drawn in the report.") var pictures: Int = 2
    @Option(name: .customLong("calibration-samples"), help: "Calibration samples for the INT8 validation.")
    var calibrationSamples: Int = 32
    @Option(name: .customLong("diagnosis-samples"), help: "Samples the per-layer INT8 diagnosis runs on.")
    var diagnosisSamples: Int = 2
    @Flag(name: .customLong("skip-int8"), help: "Leave out the INT8 validation.") var skipInt8 = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Flag(help: "Replace WORK/report even when it holds files Onboard did not write.") var force = false

    mutating func validate() throws {
        guard (2...2000).contains(scenes) else { throw ValidationError("--scenes must be 2...2000") }
        guard pictures >= 0 else { throw ValidationError("--pictures must be >= 0") }
        guard calibrationSamples >= 1 else { throw ValidationError("--calibration-samples must be >= 1") }
        guard diagnosisSamples >= 0 else { throw ValidationError("--diagnosis-samples must be >= 0") }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        let started = DetectionPipeline.now()
        let modelPath = try model ?? Resources.path("Configs/models/petr-demo")
        let qpetrPath = try qpetrModel ?? Resources.path("Configs/models/qpetr-demo")
        let reportPath = (work as NSString).appendingPathComponent("report")
        try OutputPath.checkDirectory(reportPath, option: "WORK/report", inputs: [.init("--model", modelPath), .init("--qpetr-model", qpetrPath)])
        try StagingDirectory.check(reportPath, force: force)
        let bundle = try ModelBundle(directory: modelPath)
        let pipeline = try DetectionPipeline(bundle: bundle, threads: threads)
        let data = try DemoSet.prepare(directory: (work as NSString).appendingPathComponent("data-s\(seed)"),
                                       seed: seed, scenes: scenes, threads: threads)
        let staging = try StagingDirectory(target: reportPath, force: force)
        do {
            try report(bundle: bundle, modelPath: modelPath, pipeline: pipeline, data: data, qpetrPath: qpetrPath, into: staging.path)
        } catch {
            staging.discard()
            throw error
        }
        try staging.commit()
        print("report: \((reportPath as NSString).appendingPathComponent("index.html"))")
        StandardError.line(String(format: "demo: done in %.0f s", DetectionPipeline.now() - started))
    }

    /// Detection, scores, pictures and the INT8 validation in `reportDirectory`; the summary on stdout.
    private func report(bundle: ModelBundle, modelPath: String, pipeline: DetectionPipeline, data: String, qpetrPath: String,
                        into reportDirectory: String) throws {
        let tables = try NuScenesTables(dataroot: data, version: DemoSet.version)
        let split = SyntheticSetWriter.validationSplit
        let tokens = try tables.sampleTokens(inSplit: split)
        let pictured = Set(tokens.prefix(pictures))
        StandardError.line("demo: \(modelPath) on \(data) split \(split) (\(tokens.count) samples)")
        let detections = try DetectionRun.run(pipeline: pipeline, tables: tables, tokens: tokens, skipBad: false,
                                              label: "demo: detect", keepFrames: pictured)
        let resultsPath = (reportDirectory as NSString).appendingPathComponent("results_fp32.json")
        try ResultsWriter.write(detections.results, to: resultsPath)
        let inputs = try EvaluationInputs(dataroot: data, version: DemoSet.version, split: split, resultsPath: resultsPath)
        let summary = DetectionEvaluation.evaluate(groundTruth: inputs.groundTruth, predictions: inputs.predictions, meta: inputs.meta)
        try summary.write(to: (reportDirectory as NSString).appendingPathComponent("metrics_fp32.json"))

        let reader = try pipeline.reader(tables: tables)
        var galleries: [String] = []
        for (index, token) in tokens.prefix(pictures).enumerated() {
            guard let frame = detections.frames[token] else { continue }
            let directory = (reportDirectory as NSString).appendingPathComponent("sample-\(index + 1)")
            try DemoPictures.write(sample: try reader.sample(token), frame: frame, classNames: pipeline.classNames, to: directory)
            galleries.append("sample-\(index + 1)/index.html")
        }

        var validation: ValidationSummary?
        if !skipInt8 {
            validation = try DemoValidation.run(model: qpetrPath, data: data, version: DemoSet.version, split: split,
                                                calibrationSamples: calibrationSamples, diagnosisSamples: diagnosisSamples, threads: threads,
                                                out: (reportDirectory as NSString).appendingPathComponent("validation"))
        }
        let stages = pipeline.stages.medianMilliseconds
        try DemoIndex.write(to: (reportDirectory as NSString).appendingPathComponent("index.html"), model: modelPath,
                            summary: summary, stages: stages, galleries: galleries, validation: validation)
        print("Onboard demo — \(bundle.config["source"] as? String ?? "PETR") (\(modelPath))")
        print(EvalCommand.report(summary))
        print(String(format: "latency: %.1f ms per frame (6 cameras, %d threads): ", stages["total"] ?? 0, threads)
              + DetectionStages.names.map { String(format: "%@ %.1f", $0, stages[$0] ?? 0) }.joined(separator: ", "))
        if let validation { print(validation.text) }
    }
}

/// The demo's held-out synthetic set: made once, reused when it is already there.
enum DemoSet {
    static let version = "v1.0-synth"
    static let rig = "demo-6cam"

    static func prepare(directory: String, seed: UInt64, scenes: Int, threads: Int) throws -> String {
        var options = SyntheticSetOptions(scenes: scenes, samplesPerScene: 2, seed: seed, version: version)
        options.threads = threads
        try SyntheticSetCache.prepare(directory: directory, rig: rig, options: options, label: "demo")
        return directory
    }
}
