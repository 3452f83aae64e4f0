import OnboardCore
import OnboardEval
import OnboardSensors

/// Detection over many samples of a camera set, with progress.
public enum DetectionRun {
    public struct Output {
        /// Submission boxes by sample token.
        public var results: [String: [SubmissionBox]] = [:]
        /// The frames kept (`keepFrames`), by sample token.
        public var frames: [String: DetectionPipeline.Frame] = [:]
        public var boxCount = 0
    }

    /// Runs `tokens` (nil: every key-frame sample) of `tables`. `skipBad` leaves out samples with a
    /// broken table link or image (with a warning) instead of stopping; `keepFrames` keeps the
    /// decoded boxes of those sample tokens (for pictures). With a `spool`, each sample's boxes go
    /// there as they come and `results` stays empty.
    public static func run(pipeline: DetectionPipeline, tables: NuScenesTables, tokens: [String]?, skipBad: Bool = false,
                           label: String, keepFrames: Set<String> = [], spool: SubmissionSpool? = nil,
                           log: ProgressLog = .standardError) throws -> Output {
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
                log.line("onboard: warning: skipping sample \(sample.token): \(error.description)")
                continue
            }
            if let spool {
                try spool.append(sample.token, frame.submission)
            } else {
                output.results[sample.token] = frame.submission
            }
            output.boxCount += frame.submission.count
            if keepFrames.contains(sample.token) { output.frames[sample.token] = frame }
            log.progress(label, i + 1, listing.samples.count)
        }
        return output
    }
}
