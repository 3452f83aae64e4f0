import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant

/// A recipe's `"smoothing": "smoothquant"` on a BERT encoder: the smoothing vectors of
/// `BertTransforms` from float runs of calibration sequences (each channel's |max| at the Q/K/V
/// and FC1 inputs and the value outputs) and the weights' column maxima.
enum BertSmoothing {
    /// The sequences whose activations set the vectors (the first of the calibration set).
    static let statisticsSamples = 64

    static func transforms(encoder: SentenceEncoder, recipe: QuantizationRecipe, ids: [[Int32]], threads: Int) throws -> BertTransforms {
        let c = encoder.config, d = c.hiddenSize
        var activationMax: [String: [Float]] = [:]
        let observed = Set((0..<c.numHiddenLayers).flatMap { i in
            [attentionInput(i), "encoder.layer.\(i).attention.output.LayerNorm", "encoder.layer.\(i).attention.self.value"]
        })
        for sequence in ids.prefix(statisticsSamples) {
            let graph = try c.graph(of: encoder.bundle, batch: 1, length: sequence.count, pooling: encoder.sentence.pooling)
            let executor = try FP32Executor(graph: graph, threads: threads)
            executor.valueObserver = { id, values in
                let name = graph.info(id).name
                guard observed.contains(name) else { return }
                var maxima = activationMax[name] ?? [Float](repeating: 0, count: d)
                for (index, value) in values.enumerated() { maxima[index % d] = max(maxima[index % d], abs(value)) }
                activationMax[name] = maxima
            }
            _ = try executor.run([BertBuilder.inputName: try Tensor(shape: [1, sequence.count], dtype: .i32, integers: sequence)])
        }
        let weights = try SafeTensorsFile(path: encoder.bundle.weightsPath)
        let alpha = Float(recipe.smoothingAlpha)
        func smoothing(_ activation: String, _ consumers: [String], columns: Bool) throws -> [Float] {
            var weightMax = [Float](repeating: 0, count: d)
            for consumer in consumers {
                let w = try weights.tensor("\(consumer).weight").floats()
                let k = columns ? d : w.count / d
                for (index, value) in w.enumerated() {
                    let channel = columns ? index % k : index / k
                    weightMax[channel] = max(weightMax[channel], abs(value))
                }
            }
            return BertTransforms.smoothing(activationMax: activationMax[activation] ?? [], weightMax: weightMax, alpha: alpha)
        }
        return BertTransforms(layers: try (0..<c.numHiddenLayers).map { i in
            let prefix = "encoder.layer.\(i)"
            return BertTransforms.Layer(
                attentionInput: try smoothing(attentionInput(i), ["query", "key", "value"].map { "\(prefix).attention.self.\($0)" }, columns: true),
                ffnInput: try smoothing("\(prefix).attention.output.LayerNorm", ["\(prefix).intermediate.dense"], columns: true),
                valueOutput: try smoothing("\(prefix).attention.self.value", ["\(prefix).attention.output.dense"], columns: true))
        })
    }

    /// The LayerNorm output layer i's Q, K and V read.
    static func attentionInput(_ layer: Int) -> String {
        layer == 0 ? "embeddings.LayerNorm" : "encoder.layer.\(layer - 1).output.LayerNorm"
    }
}
