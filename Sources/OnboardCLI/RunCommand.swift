import ArgumentParser
import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

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
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "fp32, or int8 for a quantized bundle.") var precision: BenchCommand.Precision = .fp32

    mutating func validate() throws {
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        let bundle = try ModelBundle(directory: model)
        let file = try SafeTensorsFile(path: inputs)
        try OutputPath.checkFile(out, inputs: [.init("--model", model), .init("--inputs", inputs)])
        let tensors = file.allTensors()
        if case let .petr(config) = bundle.architecture {
            return try runPETR(bundle, config, tensors)
        }
        let batch = try bundle.batchSize(for: tensors.mapValues(\.shape), source: inputs)
        let executor = try BenchTarget(bundle: bundle, precision: precision, batch: batch, threads: threads)
        var feed: [String: Tensor] = [:]
        for name in bundle.inputShapes(batch: batch).keys {
            guard let tensor = tensors[name], tensor.dtype == .f32 else {
                throw OnboardError.format(path: inputs, item: name, reason: "must be a float tensor")
            }
            try requireFinite(tensor, name: name)
            feed[name] = tensor
        }
        let outputs = try executor.run(feed)
        try SafeTensorsWriter.write(outputs.keys.sorted().map { ($0, outputs[$0]!) }, to: out)
    }

    /// One PETR sample: geometry from lidar2img, the graph on the chosen executor, the official decoding.
    private func runPETR(_ bundle: ModelBundle, _ config: PETRConfig, _ tensors: [String: Tensor]) throws {
        let input = try PETRModel.input(for: tensors, config: config, source: inputs)
        let plan = precision == .int8 ? try QuantizedBundle.plan(of: bundle) : nil
        if precision == .int8, plan == nil {
            throw OnboardError.invalidArgument("\(bundle.directory): --precision int8 needs a quantized bundle (run 'onboard quantize')")
        }
        let planSource = (bundle.directory as NSString).appendingPathComponent(QuantizedBundle.planFile)
        let model = try PETRModel(bundle: bundle, input: input, threads: threads) { graph in
            if let plan { return try Int8Executor(graph: graph, plan: plan, threads: threads, planSource: planSource) }
            return try FP32Executor(graph: graph, threads: threads)
        }
        let outputs = try model.run(tensors, source: inputs).named
        try SafeTensorsWriter.write(outputs.keys.sorted().compactMap { name in outputs[name].map { (name, $0) } }, to: out)
    }

    private func requireFinite(_ tensor: Tensor, name: String) throws {
        let bad = tensor.withFloats { values in values.firstIndex { !$0.isFinite } }
        if let bad { throw OnboardError.format(path: inputs, item: name, reason: "element \(bad) is not finite") }
    }
}
