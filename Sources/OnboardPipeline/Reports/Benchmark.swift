import OnboardCore
import OnboardGraph
import OnboardModels

/// Latency and memory of a bundle on random inputs of its input shapes (`SynthesizedInputs`).
public enum Benchmark {
    public struct Request {
        public var model: String
        public var precision: Precision = .fp32
        public var iterations = 20
        public var warmup = 3
        public var threads: Int = Parallel.coreCount
        public var batch = 1
        /// Add the time per op kind, from profiled runs after the timed ones.
        public var profile = false

        public init(model: String) { self.model = model }
    }

    /// The report and the op kinds in the profiler's order (empty without `profile`).
    public static func run(_ request: Request) throws -> (report: BenchReport, byKind: [(kind: String, seconds: Double)]) {
        let bundle = try ModelBundle(directory: request.model)
        let runner = try RunnerFactory(bundle: bundle, precision: request.precision, threads: request.threads)
            .runner(batch: request.batch)
        let inputs = SynthesizedInputs.gaussian(for: bundle, batch: request.batch)
        for _ in 0..<request.warmup { _ = try runner.run(inputs) }
        var times: [Double] = []
        for _ in 0..<request.iterations {
            let start = ProcessStats.seconds()
            _ = try runner.run(inputs)
            times.append((ProcessStats.seconds() - start) * 1000)
        }
        let summary = TimingSummary(times)
        var byKind: [(kind: String, seconds: Double)] = []
        if request.profile {
            let profiler = Profiler()
            runner.profiler = profiler
            for _ in 0..<request.iterations { _ = try runner.run(inputs) }
            byKind = profiler.secondsByKind.map { ($0.kind, $0.seconds / Double(request.iterations)) }
        }
        let report = BenchReport(
            model: request.model, precision: request.precision.rawValue, threads: request.threads, batch: request.batch,
            medianMs: summary.median, p90Ms: summary.percentile(90),
            weightsBytes: runner.weightBytes, activationPeakBytes: runner.memoryPlan.arenaBytes,
            scratchBytes: runner.memoryPlan.scratchBytes, peakRSSBytes: ProcessStats.peakResidentBytes,
            opMs: byKind.isEmpty ? nil : Dictionary(uniqueKeysWithValues: byKind.map { ($0.kind, $0.seconds * 1000) }),
            kernels: .current)
        return (report, byKind)
    }
}
