import ArgumentParser
import OnboardKit

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a model bundle on named input tensors.")

    @Option(help: "Model bundle directory.") var model: String
    @Option(help: """
        safetensors file with the model's inputs: a ViT takes pixel_values [B,3,H,W]; a PETR bundle takes \
        images [N,3,H,W] (or features [N,C,h,w]) and lidar2img [N,4,4] and writes all_cls_scores, all_bbox_preds, \
        boxes [K,9], scores [K], labels [K] (i32) and queries [K] (i32).
        """) var inputs: String
    @Option(help: "safetensors file to write the outputs to.") var out: String
    @Option(help: DeltaOption.help) var delta: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "fp32, or int8 for a quantized bundle.") var precision: Precision = .fp32

    mutating func validate() throws {
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        try BundleRun.run(model: model, inputs: inputs, precision: precision, threads: threads, out: out, delta: delta)
    }
}
