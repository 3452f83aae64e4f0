import ArgumentParser
import OnboardKit

/// `onboard profile`: per-op latency and memory timeline of a model, its peak memory, and whether it fits
/// a board's memory budget.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Per-op latency and memory timeline, peak memory, and the fit on a board's memory budget.",
        discussion: """
            Runs the model on random inputs of its input shapes (as 'bench' does), with the profiler attached, and \
            reports each op's median time over --runs and the activation bytes the memory plan keeps live while \
            it runs. Peak = weights + planned activation arena + scratch; it fits a board when it is within the \
            board's memory_budget_bytes. --board takes a YAML file or the name of one in Configs/boards/ \
            (e.g. raspberry-pi-5-8gb). --precision int8 needs a quantized bundle ('onboard quantize').
            """)

    @Option(help: "Model bundle directory.") var model: String
    @Option(help: "Numeric precision.") var precision: Precision = .fp32
    @Option(help: "Board profile: a YAML file, or a name in Configs/boards/.") var board: String?
    @Option(help: "Worker threads (default: the board's cores, at most this machine's; else all cores).") var threads: Int?
    @Option(help: "Profiled runs; op times are medians over them.") var runs: Int = 10
    @Option(help: "Untimed warm-up runs.") var warmup: Int = 2
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    mutating func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be >= 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0") }
        if let threads { self.threads = try ThreadOption.clamped(threads) }
    }

    func run() throws {
        var request = Profiling.Request(model: model)
        (request.precision, request.board, request.threads, request.runs, request.warmup) = (precision, board, threads, runs, warmup)
        let report = try Profiling.run(request)
        print(json ? try report.jsonText() : report.table())
    }
}
