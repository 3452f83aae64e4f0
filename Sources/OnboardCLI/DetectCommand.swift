import ArgumentParser
import Foundation
import OnboardCore
import OnboardEval
import OnboardGraph
import OnboardModels
import OnboardSensors

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

    enum Precision: String, ExpressibleByArgument, CaseIterable { case fp32, int8 }

    @Option(help: "PETR model bundle directory.") var model: String
    @Option(help: "nuScenes dataroot (holds VERSION/).") var data: String
    @Option(help: "Table version directory (default: the only one under --data).") var version: String?
    @Option(help: "Split name in VERSION/splits.json (default: every sample).") var split: String?
    @Option(help: "fp32, or int8 for a quantized bundle.") var precision: Precision = .fp32
    @Option(help: "Results file to write (nuScenes submission JSON).") var out: String
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Flag(help: "Leave out samples with a broken table link or image (warned on stderr).") var skipBad = false
    @Flag(help: "Print per-stage timing as JSON on stdout.") var json = false

    mutating func validate() throws {
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        let bundle = try ModelBundle(directory: model)
        let pipeline = try DetectionPipeline(bundle: bundle, threads: threads,
                                             executor: try Self.executor(bundle: bundle, precision: precision, threads: threads))
        let tables = try NuScenesTables(dataroot: data, version: try Self.resolveVersion(data: data, version: version))
        let tokens = try split.map { try tables.sampleTokens(inSplit: $0) }
        try OutputPath.checkFile(out, inputs: [.init("--model", model), .init("--data", data)])
        let run = try DetectionRun.run(pipeline: pipeline, tables: tables, tokens: tokens, skipBad: skipBad, label: "detect")
        try ResultsWriter.write(run.results, to: out)
        let stages = pipeline.stages.medianMilliseconds
        StandardError.line("detect: wrote \(out): \(run.results.count) samples, \(run.boxCount) boxes, "
            + String(format: "%.1f ms per frame", stages["total"] ?? 0))
        if json {
            let document: [String: Any] = ["model": model, "precision": precision.rawValue, "samples": run.results.count,
                                           "threads": threads, "stage_ms": stages]
            print(String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
        } else {
            for name in DetectionStages.names + ["total"] {
                print(String(format: "%-20@ %8.2f ms", name as NSString, stages[name] ?? 0))
            }
        }
    }

    /// The INT8 executor for a quantized bundle, nil (FP32) otherwise.
    static func executor(bundle: ModelBundle, precision: Precision, threads: Int) throws -> ((Graph) throws -> any GraphRunner)? {
        let plan = try QuantizedBundle.plan(of: bundle)
        switch precision {
        case .fp32:
            if plan != nil {
                throw OnboardError.invalidArgument("\(bundle.directory): a quantized bundle runs with --precision int8")
            }
            return nil
        case .int8:
            guard let plan else {
                throw OnboardError.invalidArgument("\(bundle.directory): --precision int8 needs a quantized bundle (onboard validate or quantize)")
            }
            let source = (bundle.directory as NSString).appendingPathComponent(QuantizedBundle.planFile)
            return { graph in try Int8Executor(graph: graph, plan: plan, threads: threads, planSource: source) }
        }
    }

    /// `version`, or the only directory under `data` that holds sample.json.
    static func resolveVersion(data: String, version: String?) throws -> String {
        if let version { return version }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []
        let candidates = entries.filter {
            FileManager.default.fileExists(atPath: ((data as NSString).appendingPathComponent($0) as NSString).appendingPathComponent("sample.json"))
        }.sorted()
        guard candidates.count == 1 else {
            throw OnboardError.invalidArgument(candidates.isEmpty
                ? "\(data): no table version directory (VERSION/sample.json) found"
                : "\(data): several table versions (\(candidates.joined(separator: ", "))); choose one with --version")
        }
        return candidates[0]
    }
}

/// Detection over many samples with progress on stderr.
enum DetectionRun {
    struct Output {
        var results: [String: [SubmissionBox]] = [:]
        var frames: [String: DetectionPipeline.Frame] = [:]
        var boxCount = 0
    }

    /// `keepFrames` keeps the decoded boxes of those sample tokens (for pictures).
    static func run(pipeline: DetectionPipeline, tables: NuScenesTables, tokens: [String]?, skipBad: Bool, label: String,
                    keepFrames: Set<String> = []) throws -> Output {
        let reader = try pipeline.reader(tables: tables, skipBad: skipBad)
        let listing = try reader.samples(tokens: tokens)
        guard !listing.samples.isEmpty else {
            throw OnboardError.invalidArgument("\(tables.tablesDirectory): no samples to run")
        }
        var output = Output()
        for (i, sample) in listing.samples.enumerated() {
            let frame: DetectionPipeline.Frame
            do {
                frame = try pipeline.detect(sample, source: "sample \(sample.token)")
            } catch let error as OnboardError where skipBad {
                StandardError.line("onboard: warning: skipping sample \(sample.token): \(error.description)")
                continue
            }
            output.results[sample.token] = frame.submission
            output.boxCount += frame.submission.count
            if keepFrames.contains(sample.token) { output.frames[sample.token] = frame }
            StandardError.progress(label, i + 1, listing.samples.count)
        }
        return output
    }
}
