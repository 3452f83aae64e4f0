import ArgumentParser
import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

/// Runs the shipped ViT demo model on its bundled inputs, checks the
/// outputs against the PyTorch (timm) reference shipped with it, and reports speed and memory.
struct ViTDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-vit", abstract: "Run the shipped ViT demo model and report fidelity against timm, speed and memory.")

    @Option(help: "Model bundle (default: Configs/models/vit-demo).") var model: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "Timed iterations.") var iterations: Int = 20

    mutating func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be >= 1") }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        let directory = try model ?? Resources.path("Configs/models/vit-demo")
        let bundle = try ModelBundle(directory: directory)
        let referencePath = (directory as NSString).appendingPathComponent("reference.safetensors")
        let reference = try SafeTensorsFile(path: referencePath)
        let pixels = try reference.tensor("pixel_values")
        let expected = try reference.tensor("logits")
        let batch = try bundle.batchSize(for: ["pixel_values": pixels.shape], source: referencePath)
        StandardError.line("demo: \(directory), batch \(batch), \(threads) threads")

        let executor = try FP32Executor(graph: try bundle.graph(batch: batch), threads: threads)
        guard let logits = try executor.run(["pixel_values": pixels])["logits"], logits.shape == expected.shape else {
            throw OnboardError.format(path: referencePath, item: "logits", reason: "shape does not match the model output")
        }
        let (maxError, maxMagnitude) = Self.maxErrors(logits, expected)
        var times: [Double] = []
        for _ in 0..<iterations {
            let start = ProcessStats.seconds()
            _ = try executor.run(["pixel_values": pixels])
            times.append((ProcessStats.seconds() - start) * 1000)
        }
        let timing = TimingSummary(times)
        let classes = logits.shape[1]
        print("Onboard demo — \(bundle.config["source"] as? String ?? "model") (\(directory))")
        print(String(format: "fidelity vs PyTorch/timm: max |error| %.3g (%.3g of max |logit| %.3g)",
                     maxError, maxError / max(maxMagnitude, 1e-30), maxMagnitude))
        for image in 0..<batch {
            let row = (0..<classes).map { logits.element(at: image * classes + $0) }
            let top = row.indices.sorted { row[$0] > row[$1] }.prefix(3)
            let text = top.map { String(format: "class %d (%.3f)", $0, row[$0]) }.joined(separator: ", ")
            print("image \(image): top-3 \(text)")
        }
        print(String(format: "latency: median %.3f ms, p90 %.3f ms per batch of %d (%d threads)",
                     timing.median, timing.percentile(90), batch, threads))
        print("memory: weights \(ByteCount.text(executor.plan.weightBytes)), activations \(ByteCount.text(executor.plan.arenaBytes)) planned, peak RSS \(ByteCount.text(ProcessStats.peakResidentBytes))")
        guard maxError <= 1e-4 * maxMagnitude else {
            throw OnboardError.model(item: directory, reason: "outputs differ from the reference beyond 1e-4 relative")
        }
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
