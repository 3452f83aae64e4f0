import Foundation
import OnboardEval

/// The demo's INT8 validation of the shipped Q-PETR with the recipe its bundle names (Q-PETR's:
/// QANS, integer softmax and LayerNorm, per-tensor INT8): calibrated on the set of
/// `Calibration/demo-synth-s11.json`, scored on the held-out set's validation split, report under `out`.
enum DemoValidation {
    static func run(model: String, data: String, version: String, split: String, calibrationSamples: Int,
                    diagnosisSamples: Int, threads: Int, out: String, log: ProgressLog) throws -> ValidationSummary {
        let calibration = try KitResources.path("Calibration/demo-synth-s11.json")
        var options = ValidationOptions(model: model, data: data, calibration: calibration, out: out)
        options.version = version
        options.split = split
        options.calibrationSamples = calibrationSamples
        options.threads = threads
        options.diagnosisSamples = diagnosisSamples
        let report = try ValidationRun.run(options, log: log)
        func percent(_ a: Double, _ b: Double) -> String {
            b == 0 ? "n/a" : String(format: "%+.1f %%", 100 * (a - b) / b)
        }
        let (f, q) = (report.fp32, report.int8)
        let speedup = report.latencyMs.int8 > 0 ? report.latencyMs.fp32 / report.latencyMs.int8 : 0
        let memory = Double(report.peakMemoryBytes.int8) / Double(max(report.peakMemoryBytes.fp32, 1))
        let planned = (fp32: Double(report.weightsBytes.fp32 + report.activationPeakBytes.fp32),
                       int8: Double(report.weightsBytes.int8 + report.activationPeakBytes.int8))
        var rows: [(String, String)] = [
            ("model", model),
            ("mAP FP32 / INT8", String(format: "%.4f / %.4f (%@)", f.meanAP, q.meanAP, percent(q.meanAP, f.meanAP))),
            ("NDS FP32 / INT8", String(format: "%.4f / %.4f (%@)", f.ndScore, q.ndScore, percent(q.ndScore, f.ndScore))),
            ("latency per frame FP32 / INT8", String(format: "%.1f / %.1f ms (%.2fx)", report.latencyMs.fp32, report.latencyMs.int8, speedup)),
            ("peak RSS FP32 / INT8", String(format: "%.1f / %.1f MiB (%.2f)", Double(report.peakMemoryBytes.fp32) / 1048576,
                                            Double(report.peakMemoryBytes.int8) / 1048576, memory)),
            ("ops in float", report.floatOps.isEmpty ? "none" : "\(report.floatOps.count) (listed in the validation report)"),
            ("planned weights + activations FP32 / INT8", String(format: "%.2f / %.2f MiB (%.2f)", planned.fp32 / 1048576, planned.int8 / 1048576,
                                                                  planned.int8 / max(planned.fp32, 1))),
        ]
        if let interval = report.dropInterval { rows.insert(("drop on other samples like these", interval.text), at: 3) }
        let text = "INT8 validation (Q-PETR):\n" + rows.map { "  \($0.0): \($0.1)" }.joined(separator: "\n")
        return ValidationSummary(reportPath: "validation/index.html", text: text, rows: rows)
    }
}
