import Foundation
import OnboardGraph

/// What `Comparison` measured; the JSON keys are a contract (`onboard compare --json`).
public struct ComparisonReport: Encodable, Sendable {
    public struct Exclusion: Encodable, Sendable {
        public let op: String
        public let outputSQNR: Double
        public let gain: Double
        enum CodingKeys: String, CodingKey { case op, outputSQNR = "output_sqnr_db", gain = "gain_db" }
    }

    public let outputs: [String: QuantizationDiagnosis.Metrics]
    public let floatOps: [String]
    /// Worst first.
    public let tensors: [QuantizationDiagnosis.TensorReport]
    public let exclusions: [Exclusion]
    enum CodingKeys: String, CodingKey { case outputs, floatOps = "float_ops", tensors, exclusions }

    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Output errors, the `top` worst tensors, then the exclusions.
    public func table(top: Int) -> String {
        var lines: [String] = []
        for (name, m) in outputs.sorted(by: { $0.key < $1.key }) {
            lines.append(String(format: "output %@: SQNR %.2f dB, cosine %.6f, max error %.4g", name, m.sqnr, m.cosine, m.maxError))
        }
        lines.append("ops run in float: \(floatOps.count)")
        lines.append(String(format: "%-40@ %-12@ %-12@ %28@ %28@", "tensor" as NSString, "op" as NSString, "runs as" as NSString,
                            "accumulated SQNR/cos/max" as NSString, "isolated SQNR/cos/max" as NSString))
        for t in tensors.prefix(top) {
            lines.append(String(format: "%-40@ %-12@ %-12@ %8.2f %9.6f %9.3g %8.2f %9.6f %9.3g",
                                t.name as NSString, t.op as NSString, t.execution as NSString,
                                t.accumulated.sqnr, t.accumulated.cosine, t.accumulated.maxError,
                                t.isolated.sqnr, t.isolated.cosine, t.isolated.maxError))
        }
        for e in exclusions {
            lines.append(String(format: "keep %@ in float: output SQNR %.2f dB (%+.2f dB)", e.op, e.outputSQNR, e.gain))
        }
        return lines.joined(separator: "\n")
    }
}
