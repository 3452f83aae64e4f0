import Foundation
import OnboardCore
import OnboardEval
import OnboardModels
import OnboardSensors

/// The kit's demo: the shipped demo PETR on a held-out synthetic camera set, scored and drawn, and
/// the shipped Q-PETR validated in INT8 against FP32; one report directory (WORK/report).
public enum Demo {
    public struct Request {
        /// PETR bundle (default: Configs/models/petr-demo).
        public var model: String?
        /// Q-PETR bundle validated in INT8 (default: Configs/models/qpetr-demo).
        public var qpetrModel: String?
        /// Working directory for the set and the report.
        public var work = "onboard-demo"
        /// Seed of the held-out synthetic set (7 is not used in training).
        public var seed: UInt64 = 7
        /// Scenes in the held-out set (a fifth form the validation split).
        public var scenes = 50
        /// Samples drawn in the report.
        public var pictures = 2
        public var calibrationSamples = 32
        public var diagnosisSamples = 2
        public var skipInt8 = false
        public var threads: Int = Parallel.coreCount
        /// Replace WORK/report even when it holds files Onboard did not write.
        public var force = false

        public init() {}
    }

    /// What the demo prints: the FP32 summary and the INT8 validation's, and the report's front page.
    public struct Outcome {
        public var summary: String
        public var indexPath: String
    }

    public static func run(_ request: Request, log: ProgressLog = .standardError) throws -> Outcome {
        let modelPath = try request.model ?? KitResources.path("Configs/models/petr-demo")
        let qpetrPath = try request.qpetrModel ?? KitResources.path("Configs/models/qpetr-demo")
        let reportPath = (request.work as NSString).appendingPathComponent("report")
        try OutputPath.checkDirectory(reportPath, option: "WORK/report", inputs: [.init("model", modelPath), .init("qpetr model", qpetrPath)])
        try StagingDirectory.check(reportPath, force: request.force)
        let bundle = try ModelBundle(directory: modelPath)
        let pipeline = try DetectionPipeline(bundle: bundle, threads: request.threads)
        let data = try DemoSet.prepare(directory: (request.work as NSString).appendingPathComponent("data-s\(request.seed)"),
                                       seed: request.seed, scenes: request.scenes, threads: request.threads, log: log)
        let staging = try StagingDirectory(target: reportPath, force: request.force)
        let summary: String
        do {
            summary = try DemoReport(request: request, bundle: bundle, modelPath: modelPath, pipeline: pipeline, data: data,
                                     qpetrPath: qpetrPath, directory: staging.path, log: log).write()
        } catch {
            staging.discard()
            throw error
        }
        try staging.commit()
        return Outcome(summary: summary, indexPath: (reportPath as NSString).appendingPathComponent("index.html"))
    }
}
