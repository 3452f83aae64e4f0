import ArgumentParser
import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time a model bundle on random inputs and report latency and memory.")

    enum Precision: String, ExpressibleByArgument, CaseIterable { case fp32, int8 }

    @Option(help: "Model bundle directory.") var model: String
    @Option(help: "Numeric precision.") var precision: Precision = .fp32
    @Option(help: "Timed iterations (after warm-up).") var iterations: Int = 20
    @Option(help: "Untimed warm-up iterations.") var warmup: Int = 3
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "Batch size.") var batch: Int = 1
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Add the time per op kind (profiled run after the timed ones).") var profile = false

    mutating func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be >= 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0") }
        guard batch >= 1 else { throw ValidationError("--batch must be >= 1") }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        let bundle = try ModelBundle(directory: model)
        let executor = try BenchTarget(bundle: bundle, precision: precision, batch: batch, threads: threads)
        let inputs = SynthesizedInputs.gaussian(for: bundle, batch: batch)
        for _ in 0..<warmup { _ = try executor.run(inputs) }
        var times: [Double] = []
        for _ in 0..<iterations {
            let start = ProcessStats.seconds()
            _ = try executor.run(inputs)
            times.append((ProcessStats.seconds() - start) * 1000)
        }
        let summary = TimingSummary(times)
        var byKind: [(kind: String, seconds: Double)] = []
        if profile {
            let profiler = Profiler()
            executor.attach(profiler)
            for _ in 0..<iterations { _ = try executor.run(inputs) }
            byKind = profiler.secondsByKind.map { ($0.kind, $0.seconds / Double(iterations)) }
        }
        let report = BenchReport(
            model: model, precision: precision.rawValue, threads: threads, batch: batch,
            medianMs: summary.median, p90Ms: summary.percentile(90),
            weightsBytes: executor.weightBytes, activationPeakBytes: executor.memoryPlan.arenaBytes,
            scratchBytes: executor.memoryPlan.scratchBytes, peakRSSBytes: ProcessStats.peakResidentBytes,
            opMs: byKind.isEmpty ? nil : Dictionary(uniqueKeysWithValues: byKind.map { ($0.kind, $0.seconds * 1000) }))
        if json {
            print(try report.jsonText())
        } else {
            print(report.table(byKind: byKind))
        }
    }
}

/// The bench result; JSON keys are a contract (`onboard bench --json`).
struct BenchReport: Encodable {
    let model: String
    let precision: String
    let threads: Int
    let batch: Int
    let medianMs: Double
    let p90Ms: Double
    let weightsBytes: Int
    let activationPeakBytes: Int
    let scratchBytes: Int
    let peakRSSBytes: Int
    let opMs: [String: Double]?

    enum CodingKeys: String, CodingKey {
        case model, precision, threads, batch
        case medianMs = "median_ms", p90Ms = "p90_ms", weightsBytes = "weights_bytes"
        case activationPeakBytes = "activation_peak_bytes", scratchBytes = "scratch_bytes"
        case peakRSSBytes = "peak_rss_bytes", opMs = "op_ms"
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func table(byKind: [(kind: String, seconds: Double)]) -> String {
        var lines = [
            "model        \(model)",
            "precision    \(precision), \(threads) threads, batch \(batch)",
            String(format: "latency      median %.3f ms, p90 %.3f ms", medianMs, p90Ms),
            "weights      \(ByteCount.text(weightsBytes))",
            "activations  \(ByteCount.text(activationPeakBytes)) planned peak, scratch \(ByteCount.text(scratchBytes))",
            "peak RSS     \(ByteCount.text(peakRSSBytes))",
        ]
        for (kind, seconds) in byKind {
            lines.append(String(format: "  %-12@ %8.3f ms", kind as NSString, seconds * 1000))
        }
        return lines.joined(separator: "\n")
    }
}

enum ByteCount {
    static func text(_ bytes: Int) -> String {
        if bytes >= 1 << 20 { return String(format: "%.2f MiB", Double(bytes) / 1048576) }
        if bytes >= 1 << 10 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return "\(bytes) B"
    }
}

/// The executor `bench` times: FP32 on any bundle, INT8 on a quantized one.
enum BenchTarget {
    case fp32(FP32Executor)
    case int8(Int8Executor)

    init(bundle: ModelBundle, precision: BenchCommand.Precision, batch: Int, threads: Int) throws {
        let graph = try bundle.graph(batch: batch)
        switch precision {
        case .fp32:
            self = .fp32(try FP32Executor(graph: graph, threads: threads))
        case .int8:
            guard let plan = try QuantizedBundle.plan(of: bundle) else {
                throw OnboardError.invalidArgument("\(bundle.directory): --precision int8 needs a quantized bundle (run 'onboard quantize')")
            }
            self = .int8(try Int8Executor(graph: graph, plan: plan, threads: threads,
                                          planSource: (bundle.directory as NSString).appendingPathComponent(QuantizedBundle.planFile)))
        }
    }

    func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        switch self {
        case let .fp32(executor): return try executor.run(inputs)
        case let .int8(executor): return try executor.run(inputs)
        }
    }

    func attach(_ profiler: Profiler) {
        switch self {
        case let .fp32(executor): executor.profiler = profiler
        case let .int8(executor): executor.profiler = profiler
        }
    }

    var memoryPlan: MemoryPlan {
        switch self {
        case let .fp32(executor): return executor.plan
        case let .int8(executor): return executor.memoryPlan
        }
    }

    /// The graph the executor runs (node order = `memoryPlan.liveBytesPerNode` order).
    var graph: Graph {
        switch self {
        case let .fp32(executor): return executor.graph
        case let .int8(executor): return executor.graph
        }
    }

    var weightBytes: Int {
        switch self {
        case let .fp32(executor): return executor.plan.weightBytes
        case let .int8(executor): return executor.weightBytes
        }
    }
}
