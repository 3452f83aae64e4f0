import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

/// The shipped ViT demo model on its bundled inputs: fidelity against the PyTorch (timm) reference
/// shipped with it (`reference.safetensors`: pixel_values, logits), speed and memory.
public enum ViTDemo {
    /// Outputs may differ from the reference by this fraction of its largest logit.
    public static let tolerance: Float = 1e-4

    public struct Result {
        /// The report, one figure per line.
        public var text: String
        /// Whether the outputs are within `tolerance` of the reference.
        public var matchesReference: Bool
        public var directory: String
    }

    public static func run(model: String?, threads: Int, iterations: Int, log: ProgressLog = .standardError) throws -> Result {
        let directory = try model ?? KitResources.path("Configs/models/vit-demo")
        let bundle = try ModelBundle(directory: directory)
        let referencePath = (directory as NSString).appendingPathComponent("reference.safetensors")
        let reference = try SafeTensorsFile(path: referencePath)
        let pixels = try reference.tensor("pixel_values")
        let expected = try reference.tensor("logits")
        let batch = try bundle.batchSize(for: ["pixel_values": pixels.shape], source: referencePath)
        log.line("demo: \(directory), batch \(batch), \(threads) threads")

        let runner = try RunnerFactory(bundle: bundle, precision: .fp32, threads: threads).runner(batch: batch)
        guard let logits = try runner.run(["pixel_values": pixels])["logits"], logits.shape == expected.shape else {
            throw OnboardError.format(path: referencePath, item: "logits", reason: "shape does not match the model output")
        }
        let (maxError, maxMagnitude) = maxErrors(logits, expected)
        var times: [Double] = []
        for _ in 0..<iterations {
            let start = ProcessStats.seconds()
            _ = try runner.run(["pixel_values": pixels])
            times.append((ProcessStats.seconds() - start) * 1000)
        }
        let timing = TimingSummary(times)
        let classes = logits.shape[1]
        var lines = [
            "Onboard demo — \(bundle.config["source"] as? String ?? "model") (\(directory))",
            String(format: "fidelity vs PyTorch/timm: max |error| %.3g (%.3g of max |logit| %.3g)",
                   maxError, maxError / max(maxMagnitude, 1e-30), maxMagnitude),
        ]
        for image in 0..<batch {
            let row = (0..<classes).map { logits.element(at: image * classes + $0) }
            let top = row.indices.sorted { row[$0] > row[$1] }.prefix(3)
            lines.append("image \(image): top-3 " + top.map { String(format: "class %d (%.3f)", $0, row[$0]) }.joined(separator: ", "))
        }
        lines.append(String(format: "latency: median %.3f ms, p90 %.3f ms per batch of %d (%d threads)",
                            timing.median, timing.percentile(90), batch, threads))
        lines.append("memory: weights \(ByteCount.text(runner.weightBytes)), activations \(ByteCount.text(runner.memoryPlan.arenaBytes)) planned, "
            + "peak RSS \(ByteCount.text(ProcessStats.peakResidentBytes))")
        return Result(text: lines.joined(separator: "\n"), matchesReference: maxError <= tolerance * maxMagnitude, directory: directory)
    }

    static func maxErrors(_ a: Tensor, _ b: Tensor) -> (Float, Float) {
        var error: Float = 0, magnitude: Float = 0
        for i in 0..<a.count {
            error = max(error, abs(a.element(at: i) - b.element(at: i)))
            magnitude = max(magnitude, abs(b.element(at: i)))
        }
        return (error, magnitude)
    }
}
