import Foundation
import OnboardCore

/// A bench result; the JSON keys are a contract (`onboard bench --json`).
public struct BenchReport: Encodable, Sendable {
    public let model: String
    public let precision: String
    public let threads: Int
    public let batch: Int
    public let medianMs: Double
    public let p90Ms: Double
    public let weightsBytes: Int
    public let activationPeakBytes: Int
    public let scratchBytes: Int
    public let peakRSSBytes: Int
    /// Milliseconds per run by op kind (profiled runs only).
    public let opMs: [String: Double]?
    /// The kernel paths that ran.
    public let kernels: KernelPaths

    enum CodingKeys: String, CodingKey {
        case model, precision, threads, batch
        case medianMs = "median_ms", p90Ms = "p90_ms", weightsBytes = "weights_bytes"
        case activationPeakBytes = "activation_peak_bytes", scratchBytes = "scratch_bytes"
        case peakRSSBytes = "peak_rss_bytes", opMs = "op_ms"
        case kernels
    }

    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The summary, then the op kinds in `byKind` order.
    public func table(byKind: [(kind: String, seconds: Double)]) -> String {
        var lines = [
            "model        \(model)",
            "precision    \(precision), \(threads) threads, batch \(batch)",
            String(format: "latency      median %.3f ms, p90 %.3f ms", medianMs, p90Ms),
            "weights      \(ByteCount.text(weightsBytes))",
            "activations  \(ByteCount.text(activationPeakBytes)) planned peak (with the largest op scratch, \(ByteCount.text(scratchBytes)))",
            "peak RSS     \(ByteCount.text(peakRSSBytes))",
            "kernels      \(kernels.text)",
        ]
        for (kind, seconds) in byKind {
            lines.append(String(format: "  %-12@ %8.3f ms", kind as NSString, seconds * 1000))
        }
        return lines.joined(separator: "\n")
    }
}
