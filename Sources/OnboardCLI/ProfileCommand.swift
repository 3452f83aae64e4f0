import ArgumentParser
import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

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
    @Option(help: "Numeric precision.") var precision: BenchCommand.Precision = .fp32
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
        // Files first, so a bad board or bundle is reported before any work.
        let boardProfile = try board.map(BoardProfile.resolve)
        let bundle = try ModelBundle(directory: model)
        let threadCount = threads ?? min(boardProfile?.cpuCores ?? Parallel.coreCount, Parallel.coreCount)
        let target = try BenchTarget(bundle: bundle, precision: precision, batch: 1, threads: threadCount)
        let inputs = SynthesizedInputs.gaussian(for: bundle, batch: 1)
        let measured = try OpTimeline.measure(target, inputs: inputs, runs: runs, warmup: warmup)
        let report = ProfileReport(
            model: model, precision: precision.rawValue, threads: threadCount, runs: runs, board: boardProfile,
            ops: measured.ops, weightsBytes: target.weightBytes, activationPeakBytes: target.memoryPlan.arenaBytes,
            scratchBytes: target.memoryPlan.scratchBytes, peakRSSBytes: ProcessStats.peakResidentBytes,
            medianMs: measured.medianMs)
        print(json ? try report.jsonText() : report.table())
    }
}

/// Per-op times (median over runs) joined with the memory plan's live bytes, in execution order.
enum OpTimeline {
    static func measure(
        _ target: BenchTarget, inputs: [String: Tensor], runs: Int, warmup: Int
    ) throws -> (ops: [ProfileReport.OpRow], medianMs: Double) {
        let graph = target.graph
        let plan = target.memoryPlan
        for _ in 0..<warmup { _ = try target.run(inputs) }
        let profiler = Profiler()
        target.attach(profiler)
        var secondsByNode: [String: [Double]] = [:]
        var totals: [Double] = []
        for _ in 0..<runs {
            profiler.reset()
            let start = ProcessStats.seconds()
            _ = try target.run(inputs)
            totals.append((ProcessStats.seconds() - start) * 1000)
            for record in profiler.records { secondsByNode[record.node, default: []].append(record.seconds) }
        }
        guard plan.liveBytesPerNode.count == graph.nodes.count else {
            throw OnboardError.model(item: "memory plan", reason: "\(plan.liveBytesPerNode.count) live sizes for \(graph.nodes.count) nodes")
        }
        let ops = graph.nodes.enumerated().map { index, node in
            let live = plan.liveBytesPerNode[index]
            let ms = (secondsByNode[node.name].map { TimingSummary($0).median } ?? 0) * 1000
            return ProfileReport.OpRow(name: node.name, kind: node.op.kind, ms: ms, liveBytes: live,
                                       totalBytes: live + target.weightBytes)
        }
        return (ops, TimingSummary(totals).median)
    }
}
