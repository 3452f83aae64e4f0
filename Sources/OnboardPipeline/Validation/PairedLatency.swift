import OnboardSensors

/// Per-frame latency of FP32 and INT8 measured side by side: the two pipelines take turns on the
/// same samples, a few frames each, so a machine that slows down or speeds up while they run
/// weighs on both alike. (The detection passes that are scored run one after the other, minutes
/// apart on a large split.)
enum PairedLatency {
    struct Result {
        /// Median milliseconds per frame of each stage and of the whole frame ("total").
        var fp32: [String: Double]
        var int8: [String: Double]
        /// Timed frames per precision.
        var frames: Int
    }

    /// Frames one precision runs before the other takes over: short enough that both see the same
    /// machine, long enough that each runs on its own warm caches, as a deployed model does.
    static let blockFrames = 5

    /// Each sample `rounds` times per precision, in blocks of `blockFrames` samples, FP32 then INT8,
    /// after one untimed frame of each.
    static func measure(fp32: DetectionPipeline, int8: DetectionPipeline, samples timed: [CameraSample], rounds: Int = 2,
                        label: String, log: ProgressLog) throws -> Result {
        guard let first = timed.first else { return Result(fp32: [:], int8: [:], frames: 0) }
        for pipeline in [fp32, int8] {
            _ = try pipeline.detect(first, source: "sample \(first.token)")
            pipeline.resetStages()
        }
        let frames = timed.count * rounds
        var done = 0
        for _ in 0..<rounds {
            for start in stride(from: 0, to: timed.count, by: blockFrames) {
                let block = timed[start..<min(start + blockFrames, timed.count)]
                for pipeline in [fp32, int8] {
                    for sample in block { _ = try pipeline.detect(sample, source: "sample \(sample.token)") }
                }
                done += block.count
                log.progress(label, done, frames)
            }
        }
        return Result(fp32: fp32.stages.medianMilliseconds, int8: int8.stages.medianMilliseconds, frames: frames)
    }
}
