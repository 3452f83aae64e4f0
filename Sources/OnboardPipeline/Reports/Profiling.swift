import OnboardCore
import OnboardGraph
import OnboardModels

/// Per-op latency and memory timeline of a bundle on random inputs, its planned peak, and whether
/// that fits a board's memory budget.
public enum Profiling {
    public struct Request {
        public var model: String
        public var precision: Precision = .fp32
        /// A YAML file, or the name of one in Configs/boards/.
        public var board: String?
        /// Default: the board's cores, at most this machine's; else all cores.
        public var threads: Int?
        public var runs = 10
        public var warmup = 2

        public init(model: String) { self.model = model }
    }

    public static func run(_ request: Request) throws -> ProfileReport {
        // Files first, so a bad board or bundle is reported before any work.
        let board = try request.board.map(BoardProfile.resolve)
        let bundle = try ModelBundle(directory: request.model)
        let threads = request.threads ?? min(board?.cpuCores ?? Parallel.coreCount, Parallel.coreCount)
        CleanCodePages.release() // the code that started the process and read the files, before the build adds its peak
        let runner = try RunnerFactory(bundle: bundle, precision: request.precision, threads: threads).runner(batch: 1)
        CleanCodePages.release() // and the build's, as `detect` does: the breakdown shows what running holds
        let inputs = SynthesizedInputs.gaussian(for: bundle, batch: 1)
        let measured = try OpTimeline.measure(runner, inputs: inputs, runs: request.runs, warmup: request.warmup)
        return ProfileReport(
            model: request.model, precision: request.precision.rawValue, threads: threads, runs: request.runs, board: board,
            ops: measured.ops, weightsBytes: runner.weightBytes, activationPeakBytes: runner.memoryPlan.arenaBytes,
            scratchBytes: runner.memoryPlan.scratchBytes, peakRSSBytes: ProcessStats.peakResidentBytes,
            resident: ResidentMemory.current(), medianMs: measured.medianMs, kernels: .current)
    }
}
