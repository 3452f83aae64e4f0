import ArgumentParser
import OnboardKit

/// `onboard eval`: nuScenes detection metrics of a results file, equal to the official devkit's.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "nuScenes detection metrics (mAP, TP errors, NDS) of a results file, as the official devkit computes them.",
        discussion: """
            Reads DIR/VERSION/*.json (the 13 nuScenes tables) and the custom split S from DIR/VERSION/splits.json \
            ({"S": [scene names]}). RESULTS.json is in the official submission format and must hold every sample \
            of the split; as in the devkit, its other samples are refused for a predefined split name (train, val, \
            test, mini_train, mini_val, train_detect, train_track) and left out, with a note, for a custom one. METRICS.json has the layout of the devkit's metrics_summary.json; NaN figures are \
            written as the token NaN, as Python's json module writes them.
            """)

    @Option(help: "nuScenes dataroot (holds VERSION/).") var data: String
    @Option(help: "Table version directory, e.g. v1.0-mini.") var version: String
    @Option(help: "Split name listed in DIR/VERSION/splits.json.") var split: String
    @Option(help: "Detection results in the official submission format.") var results: String
    @Option(help: "Where to write the metrics summary (JSON).") var out: String

    func run() throws {
        // Load and validate everything first, so a user error is the only line on stderr.
        let inputs = try EvaluationInputs(dataroot: data, version: version, split: split, resultsPath: results)
        try OutputPath.checkFile(out, option: "--out", inputs: [.init("--data", data), .init("--results", results)])
        ProgressLog.standardError.line("eval: split \(split): \(inputs.groundTruth.sampleTokens.count) samples, "
            + "\(inputs.groundTruth.boxes.count) ground-truth boxes, \(inputs.predictions.count) predicted boxes")
        if inputs.samplesOutsideSplit > 0 {
            ProgressLog.standardError.line("eval: note: \(inputs.samplesOutsideSplit) samples of \(results) are outside custom split \(split) and left out, as the devkit does")
        }
        let summary = DetectionEvaluation.evaluate(groundTruth: inputs.groundTruth, predictions: inputs.predictions,
                                                   meta: inputs.meta)
        try summary.write(to: out)
        ProgressLog.standardError.line("eval: wrote \(out)")
        print(summary.devkitText)
    }
}
