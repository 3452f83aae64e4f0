import ArgumentParser
import Foundation
import OnboardKit

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
        var request = Demo.Request()
        (request.model, request.qpetrModel, request.work, request.seed, request.scenes) = (model, qpetrModel, work, seed, scenes)
        (request.pictures, request.calibrationSamples, request.diagnosisSamples) = (pictures, calibrationSamples, diagnosisSamples)
        (request.skipInt8, request.threads, request.force) = (skipInt8, threads, force)
        let outcome = try Demo.run(request)
        print(outcome.summary)
        print("report: \(outcome.indexPath)")
        ProgressLog.standardError.line(String(format: "demo: done in %.0f s", DetectionPipeline.now() - started))
    }
}
