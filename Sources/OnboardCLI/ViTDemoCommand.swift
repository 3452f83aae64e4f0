import ArgumentParser
import OnboardKit

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
        let result = try ViTDemo.run(model: model, threads: threads, iterations: iterations)
        print(result.text)
        guard result.matchesReference else {
            throw OnboardError.model(item: result.directory, reason: "outputs differ from the reference beyond \(ViTDemo.tolerance) relative")
        }
    }
}
