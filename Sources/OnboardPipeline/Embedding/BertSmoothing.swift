import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant

/// A recipe's `"smoothing": "smoothquant"` on a BERT encoder: the smoothing vectors of
/// `BertTransforms` from float runs of calibration sequences (each channel's |max| at the Q/K/V
/// and FC1 inputs and the value outputs) and the weights' column maxima; with
/// `"residual_smoothing"` also the residual sums' vectors, from their channels' |max|.
enum BertSmoothing {
    /// The sequences whose activations set the vectors (the first of the calibration set).
    static let statisticsSamples = 64

    /// The transforms, and QSUR^(1/d) (`QuantizationSpaceUtilization`) of the Q/K/V and FC1 inputs
    /// before and after, averaged over the layers (geometric mean).
    static func transforms(
        encoder: SentenceEncoder, recipe: QuantizationRecipe, ids: [[Int32]], threads: Int
    ) throws -> (transforms: BertTransforms, qsur: (before: Double, after: Double)) {
        let c = encoder.config, d = c.hiddenSize
        var activationMax: [String: [Float]] = [:]
        var covariances: [String: CovarianceAccumulator] = [:]
        var minima: [String: [Float]] = [:], maxima: [String: [Float]] = [:]
        let linearInputs = Set((0..<c.numHiddenLayers).flatMap { [attentionInput($0), "encoder.layer.\($0).attention.output.LayerNorm"] })
        let observed = Set((0..<c.numHiddenLayers).flatMap { i in
            [attentionInput(i), "encoder.layer.\(i).attention.output.LayerNorm", "encoder.layer.\(i).attention.self.value"]
                + (recipe.residualSmoothing ? residualSums(i) : [])
        })
        let packedWeights = PackedWeightCache()
        for sequence in ids.prefix(statisticsSamples) {
            let graph = try c.graph(of: encoder.bundle, batch: 1, length: sequence.count, pooling: encoder.sentence.pooling)
            let executor = try FP32Executor(graph: graph, threads: threads, packedWeights: packedWeights)
            executor.valueObserver = { id, values in
                let name = graph.info(id).name
                guard observed.contains(name) else { return }
                var absolute = activationMax[name] ?? [Float](repeating: 0, count: d)
                for (index, value) in values.enumerated() { absolute[index % d] = max(absolute[index % d], abs(value)) }
                activationMax[name] = absolute
                guard linearInputs.contains(name) else { return }
                var low = minima[name] ?? [Float](repeating: .infinity, count: d), high = maxima[name] ?? [Float](repeating: -.infinity, count: d)
                for (index, value) in values.enumerated() { low[index % d] = min(low[index % d], value); high[index % d] = max(high[index % d], value) }
                (minima[name], maxima[name]) = (low, high)
                var covariance = covariances[name] ?? CovarianceAccumulator(channels: d, item: name)
                try covariance.observe(Array(values))
                covariances[name] = covariance
            }
            _ = try executor.run([BertBuilder.inputName: try Tensor(shape: [1, sequence.count], dtype: .i32, integers: sequence)])
        }
        let weights = try encoder.bundle.weights()  // a delta's merged weights where the encoder has one
        let alpha = Float(recipe.smoothingAlpha)
        func smoothing(_ activation: String, _ consumers: [String], columns: Bool) throws -> [Float] {
            var weightMax = [Float](repeating: 0, count: d)
            for consumer in consumers {
                let w = try (weights.overrides["\(consumer).weight"] ?? weights.file.tensor("\(consumer).weight")).floats()
                let k = columns ? d : w.count / d
                for (index, value) in w.enumerated() {
                    let channel = columns ? index % k : index / k
                    weightMax[channel] = max(weightMax[channel], abs(value))
                }
            }
            return BertTransforms.smoothing(activationMax: activationMax[activation] ?? [], weightMax: weightMax, alpha: alpha)
        }
        let transforms = BertTransforms(layers: try (0..<c.numHiddenLayers).map { i in
            let prefix = "encoder.layer.\(i)"
            var layer = BertTransforms.Layer(
                attentionInput: try smoothing(attentionInput(i), ["query", "key", "value"].map { "\(prefix).attention.self.\($0)" }, columns: true),
                ffnInput: try smoothing("\(prefix).attention.output.LayerNorm", ["\(prefix).intermediate.dense"], columns: true),
                valueOutput: try smoothing("\(prefix).attention.self.value", ["\(prefix).attention.output.dense"], columns: true))
            if recipe.residualSmoothing {
                let sums = try residualSums(i).map { name in
                    guard let maximum = activationMax[name] else {
                        throw OnboardError.model(item: name, reason: "no activations observed for the residual smoothing")
                    }
                    return BertTransforms.residualSmoothing(maximum: maximum)
                }
                (layer.attentionResidual, layer.ffnResidual) = (sums[0], sums[1])
            }
            return layer
        })
        var logBefore = 0.0, logAfter = 0.0
        for (i, layer) in transforms.layers.enumerated() {
            for (name, scale) in [(attentionInput(i), layer.attentionInput), ("encoder.layer.\(i).attention.output.LayerNorm", layer.ffnInput)] {
                guard let covariance = try covariances[name]?.covariance(), let low = minima[name], let high = maxima[name] else {
                    throw OnboardError.model(item: name, reason: "no activations observed for the smoothing statistics")
                }
                logBefore += log(try QuantizationSpaceUtilization.perDimension(covariance: covariance, minimum: low, maximum: high))
                logAfter += log(try QuantizationSpaceUtilization.perDimension(covariance: covariance, minimum: low, maximum: high, scale: scale))
            }
        }
        let sites = Double(2 * c.numHiddenLayers)
        return (transforms, (exp(logBefore / sites), exp(logAfter / sites)))
    }

    /// Layer i's two residual sums (the adds in front of its LayerNorms).
    static func residualSums(_ layer: Int) -> [String] {
        ["encoder.layer.\(layer).attention.output.residual", "encoder.layer.\(layer).output.residual"]
    }

    /// The LayerNorm output layer i's Q, K and V read.
    static func attentionInput(_ layer: Int) -> String {
        layer == 0 ? "embeddings.LayerNorm" : "encoder.layer.\(layer - 1).output.LayerNorm"
    }
}
