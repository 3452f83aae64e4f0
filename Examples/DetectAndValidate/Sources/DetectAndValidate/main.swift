// Onboard from Swift: render a small synthetic camera set, detect 3D boxes on it with the shipped
// demo PETR, score them with the nuScenes metric, and validate the shipped Q-PETR in INT8 against
// FP32. Usage: DetectAndValidate [WORK_DIRECTORY] (default: onboard-example).
import Foundation
import OnboardKit

// On ^C or SIGTERM, the temporaries of the outputs being written are removed (as `onboard` does).
Temporaries.installSignalHandlers()
let work = CommandLine.arguments.dropFirst().first ?? "onboard-example"
let threads = Parallel.coreCount
let log = ProgressLog.standardError

do {
    // 1. A camera set in the nuScenes layout: 5 scenes of 2 samples on the demo's 6-camera rig;
    //    four scenes form the split synth_train, one synth_val.
    let data = (work as NSString).appendingPathComponent("set")
    var options = SyntheticSetOptions(scenes: 5, samplesPerScene: 2, seed: 21, version: "v1.0-synth")
    options.threads = threads
    try SyntheticSetCache.prepare(directory: data, rig: "demo-6cam", options: options, label: "example", log: log)
    let tables = try NuScenesTables(dataroot: data, version: options.version)
    let validation = try tables.sampleTokens(inSplit: SyntheticSetWriter.validationSplit)

    // 2. Detection, sample by sample, with the FP32 demo PETR.
    let bundle = try ModelBundle(directory: try KitResources.path("Configs/models/petr-demo"))
    let pipeline = try DetectionPipeline(bundle: bundle, precision: .fp32, threads: threads)
    let reader = try pipeline.reader(tables: tables)
    var results: [String: [SubmissionBox]] = [:]
    for token in validation {
        let frame = try pipeline.detect(try reader.sample(token), source: "sample \(token)")
        results[token] = frame.submission
        let best = frame.boxes.max { $0.score < $1.score }
        print("sample \(token): \(frame.submission.count) boxes"
              + (best.map { String(format: ", best %@ %.2f", pipeline.classNames[$0.label], $0.score) } ?? ""))
    }
    print(String(format: "FP32 detection: %.1f ms per frame", pipeline.stages.medianMilliseconds["total"] ?? 0))

    // 3. The nuScenes metric on the synthetic ground truth.
    let resultsPath = (work as NSString).appendingPathComponent("results_fp32.json")
    try ResultsWriter.write(results, to: resultsPath)
    let scored = try EvaluationInputs(dataroot: data, version: options.version, split: SyntheticSetWriter.validationSplit,
                                      resultsPath: resultsPath)
    let metrics = DetectionEvaluation.evaluate(groundTruth: scored.groundTruth, predictions: scored.predictions, meta: scored.meta)
    print(String(format: "mAP %.4f, NDS %.4f", metrics.meanAP, metrics.ndScore))

    // 4. INT8 validation of the shipped Q-PETR with the recipe its bundle names: calibrated on
    //    synth_train, both precisions scored on synth_val, a report in WORK/validation.
    var request = ValidationOptions(model: try KitResources.path("Configs/models/qpetr-demo"), data: data, calibration: data,
                                    out: (work as NSString).appendingPathComponent("validation"))
    request.split = SyntheticSetWriter.validationSplit
    request.calibrationSamples = 8
    request.diagnosisSamples = 1
    request.bootstrapReplicates = 0
    request.threads = threads
    let report = try ValidationRun.run(request, log: log)
    print(report.headline(out: request.out))
} catch {
    log.line("DetectAndValidate: \(error)")
    exit(1)
}
