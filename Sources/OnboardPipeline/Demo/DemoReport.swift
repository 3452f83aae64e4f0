import Foundation
import OnboardCore
import OnboardEval
import OnboardModels
import OnboardSensors

/// The demo report's contents: detection, scores, pictures and the INT8 validation.
struct DemoReport {
    let request: Demo.Request
    let bundle: ModelBundle
    let modelPath: String
    let pipeline: DetectionPipeline
    let data: String
    let qpetrPath: String
    /// Where the report is written.
    let directory: String
    let log: ProgressLog

    func file(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Writes the report; returns the summary for stdout.
    func write() throws -> String {
        let tables = try NuScenesTables(dataroot: data, version: DemoSet.version)
        let split = SyntheticSetWriter.validationSplit
        let tokens = try tables.sampleTokens(inSplit: split)
        let pictured = Set(tokens.prefix(request.pictures))
        log.line("demo: \(modelPath) on \(data) split \(split) (\(tokens.count) samples)")
        let detections = try DetectionRun.run(pipeline: pipeline, tables: tables, tokens: tokens, label: "demo: detect",
                                              keepFrames: pictured, log: log)
        let resultsPath = file("results_fp32.json")
        try ResultsWriter.write(detections.results, to: resultsPath)
        let inputs = try EvaluationInputs(dataroot: data, version: DemoSet.version, split: split, resultsPath: resultsPath)
        let summary = DetectionEvaluation.evaluate(groundTruth: inputs.groundTruth, predictions: inputs.predictions, meta: inputs.meta)
        try summary.write(to: file("metrics_fp32.json"))

        let reader = try pipeline.reader(tables: tables)
        var galleries: [String] = []
        for (index, token) in tokens.prefix(request.pictures).enumerated() {
            guard let frame = detections.frames[token] else { continue }
            try DemoPictures.write(sample: try reader.sample(token), frame: frame, classNames: pipeline.classNames,
                                   to: file("sample-\(index + 1)"))
            galleries.append("sample-\(index + 1)/index.html")
        }

        var validation: ValidationSummary?
        if !request.skipInt8 {
            validation = try DemoValidation.run(model: qpetrPath, data: data, version: DemoSet.version, split: split,
                                                calibrationSamples: request.calibrationSamples,
                                                diagnosisSamples: request.diagnosisSamples, threads: request.threads,
                                                out: file("validation"), log: log)
        }
        let stages = pipeline.stages.medianMilliseconds
        try DemoIndex.write(to: file("index.html"), model: modelPath, summary: summary, stages: stages, galleries: galleries,
                            validation: validation)
        var lines = ["Onboard demo — \(bundle.config["source"] as? String ?? "PETR") (\(modelPath))", summary.devkitText,
                     String(format: "latency: %.1f ms per frame (6 cameras, %d threads): ", stages["total"] ?? 0, request.threads)
                         + DetectionStages.names.map { String(format: "%@ %.1f", $0, stages[$0] ?? 0) }.joined(separator: ", ")]
        if let validation { lines.append(validation.text) }
        return lines.joined(separator: "\n")
    }
}
