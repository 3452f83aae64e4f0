import Foundation
import OnboardEval

extension ValidationReport {
    /// The headline figures, one per line, with where the quantized bundle and the report are
    /// (`out`: the validation's output directory).
    public func headline(out: String) -> String {
        func row(_ name: String, _ a: Double, _ b: Double, _ format: String) -> String {
            String(format: "%-22@ FP32 \(format)  INT8 \(format)", name as NSString, a, b)
        }
        var lines = ["\(model) on \(dataset), split \(split) (\(sampleCount) samples)"]
        if pseudoGroundTruth {
            lines.append("no annotations: INT8 scored against the FP32 detections (pseudo ground truth)")
        }
        lines.append(row("mAP", fp32.meanAP, int8.meanAP, "%.4f"))
        lines.append(row("NDS", fp32.ndScore, int8.ndScore, "%.4f"))
        if let dropInterval {
            lines.append("drop interval          " + dropInterval.text)
        }
        lines.append(row("latency ms/frame", latencyMs.fp32, latencyMs.int8, "%.2f"))
        lines.append("weights                FP32 \(ByteCount.text(weightsBytes.fp32))  INT8 \(ByteCount.text(weightsBytes.int8))")
        if let lowBitWeightsBytes { lines.append("low-bit Linears        \(ByteCount.text(lowBitWeightsBytes)) of the INT8 weights") }
        if let lowBitOutlierFraction {
            lines.append("per-patch outliers     \(String(format: "%.4f", 100 * lowBitOutlierFraction)) % of those inputs kept in float")
        }
        lines.append("peak RSS               FP32 \(ByteCount.text(peakMemoryBytes.fp32))  INT8 \(ByteCount.text(peakMemoryBytes.int8))")
        if let kernels { lines.append("kernels                " + kernels.text) }
        if let best = suggestedExclusions.first {
            lines.append(String(format: "best float exclusion   %@ (%+.2f dB)", best.op as NSString, best.gain))
        }
        lines.append("quantized bundle: \((out as NSString).appendingPathComponent(ValidationRun.int8Bundle))")
        lines.append("report: \((out as NSString).appendingPathComponent("index.html"))")
        return lines.joined(separator: "\n")
    }
}
