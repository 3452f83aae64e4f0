import Foundation
import OnboardCore

/// What `onboard profile` measures; JSON keys are a contract (`onboard profile --json`).
public struct ProfileReport: Encodable, Sendable {
    public struct OpRow: Encodable, Equatable, Sendable {
        public let name: String
        public let kind: String
        /// Median over the profiled runs.
        public let ms: Double
        /// Arena bytes live while the op runs (its inputs, its output, its scratch and everything
        /// kept for later ops).
        public let liveBytes: Int
        /// The op's own scratch, part of `liveBytes`.
        public let scratchBytes: Int
        /// `liveBytes` plus the weights: the model's memory at that point of the run.
        public let totalBytes: Int

        enum CodingKeys: String, CodingKey {
            case name, kind, ms, liveBytes = "live_bytes", scratchBytes = "scratch_bytes", totalBytes = "total_bytes"
        }
    }

    public let model: String
    public let precision: String
    public let threads: Int
    public let runs: Int
    public let board: BoardProfile?
    public let ops: [OpRow]
    public let weightsBytes: Int
    /// The planned arena (all activations and each op's scratch, placed by liveness).
    public let activationPeakBytes: Int
    /// The largest scratch of one op (part of the arena).
    public let scratchBytes: Int
    public let peakRSSBytes: Int
    /// This process's resident memory by kind of mapping at the end of the runs (nil off Linux).
    public let resident: ResidentMemory?
    /// Median wall time of a whole run.
    public let medianMs: Double
    /// The kernel paths that ran.
    public let kernels: KernelPaths

    /// weights + planned arena.
    public var peakBytes: Int { weightsBytes + activationPeakBytes }
    /// Budget minus planned peak (negative when it does not fit); nil without a board.
    public var marginBytes: Int? { board.map { $0.memoryBudgetBytes - peakBytes } }
    public var fits: Bool? { marginBytes.map { $0 >= 0 } }

    enum CodingKeys: String, CodingKey {
        case model, precision, threads, runs, board, ops
        case weightsBytes = "weights_bytes", activationPeakBytes = "activation_peak_bytes", scratchBytes = "scratch_bytes"
        case peakBytes = "peak_bytes", peakRSSBytes = "peak_rss_bytes", resident, fits, marginBytes = "margin_bytes"
        case medianMs = "median_ms"
        case kernels
    }

    /// Every key is always present; `board`, `fits` and `margin_bytes` are null without `--board`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(precision, forKey: .precision)
        try container.encode(threads, forKey: .threads)
        try container.encode(runs, forKey: .runs)
        try container.encode(board, forKey: .board)
        try container.encode(ops, forKey: .ops)
        try container.encode(weightsBytes, forKey: .weightsBytes)
        try container.encode(activationPeakBytes, forKey: .activationPeakBytes)
        try container.encode(scratchBytes, forKey: .scratchBytes)
        try container.encode(peakBytes, forKey: .peakBytes)
        try container.encode(peakRSSBytes, forKey: .peakRSSBytes)
        try container.encode(resident, forKey: .resident)
        try container.encode(fits, forKey: .fits)
        try container.encode(marginBytes, forKey: .marginBytes)
        try container.encode(medianMs, forKey: .medianMs)
        try container.encode(kernels, forKey: .kernels)
    }

    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Bytes for people: GiB from 1 GiB up (board budgets), else as `bench` prints them.
    public static func size(_ bytes: Int) -> String {
        let magnitude = abs(bytes)
        if magnitude >= 1 << 30 { return String(format: "%.2f GiB", Double(bytes) / 1073741824) }
        return bytes < 0 ? "-" + ByteCount.text(magnitude) : ByteCount.text(bytes)
    }

    /// The per-op table, then the summary.
    public func table() -> String {
        func mib(_ bytes: Int) -> String {
            let text = String(format: "%.2f", Double(bytes) / 1048576)
            return String(repeating: " ", count: max(0, 12 - text.count)) + text
        }
        let nameWidth = min(max(ops.map(\.name.count).max() ?? 2, 2), 48)
        func pad(_ text: String, _ width: Int) -> String {
            text.count > width ? String(text.prefix(width - 1)) + "~" : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        var lines = [pad("op", nameWidth) + "  " + pad("kind", 12) + "        ms" + "    live MiB" + "   total MiB"]
        for op in ops {
            lines.append(pad(op.name, nameWidth) + "  " + pad(op.kind, 12)
                + String(format: " %9.3f", op.ms) + mib(op.liveBytes) + mib(op.totalBytes))
        }
        let livePeak = ops.map(\.liveBytes).max() ?? 0
        lines += [
            "",
            "model        \(model)",
            "precision    \(precision), \(threads) threads, median of \(runs) runs",
            String(format: "latency      median %.3f ms per run (ops sum %.3f ms)", medianMs, ops.reduce(0) { $0 + $1.ms }),
            "weights      \(Self.size(weightsBytes))",
            "activations  \(Self.size(activationPeakBytes)) planned arena (largest live set \(Self.size(livePeak))), "
                + "of which the largest op scratch \(Self.size(scratchBytes))",
            "peak         \(Self.size(peakBytes)) = weights + activations",
            "peak RSS     \(Self.size(peakRSSBytes)) measured in this process",
            "kernels      \(kernels.text)",
        ]
        if let resident {
            lines.append("resident     \(Self.size(resident.totalBytes)) at the end: binary and libraries \(Self.size(resident.binaryBytes)), "
                + "heap \(Self.size(resident.heapBytes)), stacks \(Self.size(resident.stackBytes)), "
                + "mapped weights \(Self.size(resident.mappedWeightsBytes)), other \(Self.size(resident.otherBytes))")
        }
        if let board, let marginBytes {
            let verdict = marginBytes >= 0
                ? "fits, margin \(Self.size(marginBytes))"
                : "DOES NOT FIT, over by \(Self.size(-marginBytes))"
            lines.append("board        \(board.name): budget \(Self.size(board.memoryBudgetBytes)) of "
                + "\(Self.size(board.ramBytes)) RAM, \(board.cpuCores) cores: \(verdict)")
        }
        return lines.joined(separator: "\n")
    }
}
