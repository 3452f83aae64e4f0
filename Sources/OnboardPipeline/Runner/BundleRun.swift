import OnboardCore
import OnboardModels

/// A bundle run once on named input tensors from a .safetensors file, its outputs written to
/// another: a classifier's graph outputs, or a PETR sample's head outputs and decoded boxes.
public enum BundleRun {
    /// `delta`: a fine-tune delta merged into the float bundle's weights at load.
    public static func run(model: String, inputs: String, precision: Precision, threads: Int, out: String, delta: String? = nil,
                           log: ProgressLog = .standardError) throws {
        var bundle = try ModelBundle(directory: model)
        let file = try SafeTensorsFile(path: inputs)
        try OutputPath.checkFile(out, option: "out", inputs: [.init("model", model), .init("inputs", inputs)]
                                 + (delta.map { [.init("delta", $0)] } ?? []))
        if let delta { try bundle.apply(delta: delta, log: log) }
        let tensors = file.allTensors()
        let runners = try RunnerFactory(bundle: bundle, precision: precision, threads: threads)
        let outputs: [String: Tensor]
        if let config = bundle.model as? PETRConfig {
            let input = try PETRModel.input(for: tensors, config: config, source: inputs)
            outputs = try PETRModel(bundle: bundle, input: input, threads: threads) { try runners($0) }.run(tensors, source: inputs).named
        } else {
            let batch = try bundle.batchSize(for: tensors.mapValues(\.shape), source: inputs)
            var feed: [String: Tensor] = [:]
            for name in bundle.inputShapes(batch: batch).keys {
                guard let tensor = tensors[name], tensor.dtype == .f32 else {
                    throw OnboardError.format(path: inputs, item: name, reason: "must be a float tensor")
                }
                try tensor.requireFinite(name: name, source: inputs)
                feed[name] = tensor
            }
            outputs = try runners.runner(batch: batch).run(feed)
        }
        try SafeTensorsWriter.write(outputs.keys.sorted().compactMap { name in outputs[name].map { (name, $0) } }, to: out)
    }
}
