import OnboardCore
import OnboardQuant

/// Runs the FP32 graph over a calibration set with an observer on every activation tensor and
/// turns the observed ranges into a `QuantizationPlan`. Logits the INT8 executor stores stabilized
/// (`SoftmaxStabilization`) are observed after subtracting each row's max, so their range is [min, 0];
/// softmax outputs it stores with deferred normalization (`SoftmaxNormalization`) have fixed parameters;
/// ranges read only by saturating activations are cut where those stop changing (`ConsumerClipping`).
public enum Calibrator {
    /// - Parameters:
    ///   - count: number of calibration samples (at least 1).
    ///   - sample: the inputs of sample `i`, by input name.
    ///   - progress: called after each sample with (done, count).
    public static func calibrate(
        graph: Graph, recipe: QuantizationRecipe, count: Int, threads: Int,
        sample: (Int) throws -> [String: Tensor], progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> QuantizationPlan {
        guard count > 0 else { throw OnboardError.invalidArgument("the calibration set is empty") }
        var options = ObserverOptions()
        options.symmetric = recipe.symmetricActivations
        options.percentile = recipe.percentile
        var observers: [Int: any RangeObserver] = [:]
        let inherited = inheritedParameters(graph)
        let deferred = SoftmaxNormalization.deferredValues(in: graph, recipe: recipe)
        for (index, info) in graph.values.enumerated()
        where info.role != .constant && info.dtype == .f32 && inherited[index] == nil && !deferred.contains(index) {
            observers[index] = makeObserver(recipe.observer, item: info.name, options: options)
        }
        let stabilized = SoftmaxStabilization.stabilizedValues(in: graph, recipe: recipe)
        let executor = try FP32Executor(graph: graph, threads: threads)
        executor.valueObserver = { id, values in
            if stabilized.contains(id.index), let width = graph.info(id).shape.last {
                let rows = SoftmaxStabilization.stabilized(values, width: width)
                try rows.withUnsafeBufferPointer { try observers[id.index]?.observe($0) }
            } else {
                try observers[id.index]?.observe(values)
            }
        }
        for i in 0..<count {
            let inputs = try sample(i)
            do {
                _ = try executor.run(inputs)
            } catch let error as OnboardError {
                throw OnboardError.invalidArgument("calibration sample \(i): \(error)")
            }
            progress(i + 1, count)
        }
        var activations: [String: ActivationQuant] = [:]
        for index in deferred { activations[graph.values[index].name] = SoftmaxNormalization.parameters }
        for (index, observer) in observers {
            if stabilized.contains(index) {
                let range = try observer.calibratedRange()
                activations[graph.values[index].name] = SoftmaxStabilization.parameters(lower: range.min, clip: recipe.softmaxClip)
            } else {
                let params = try observer.quantParams(bits: 8, symmetric: recipe.symmetricActivations)
                activations[graph.values[index].name] = ActivationQuant(params)
            }
        }
        try ConsumerClipping.apply(to: &activations, graph: graph, recipe: recipe)
        // Ops that only move codes (`QuantizationTraits.movesCodesOnly`) share their source's parameters.
        for (index, source) in inherited.sorted(by: { $0.key < $1.key }) {
            activations[graph.values[index].name] = activations[graph.values[source].name]
        }
        return QuantizationPlan(recipe: recipe, activations: activations, calibrationSamples: count)
    }

    /// Value index -> the value whose parameters it must reuse (followed to the end of chains).
    static func inheritedParameters(_ graph: Graph) -> [Int: Int] {
        var source: [Int: Int] = [:]
        for node in graph.nodes where node.op.quantization.movesCodesOnly && graph.constants[node.inputs[0]] == nil {
            let input = node.inputs[0].index
            source[node.output.index] = source[input] ?? input
        }
        return source
    }
}
