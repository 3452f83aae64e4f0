import OnboardCore
import OnboardQuant

/// Runs the FP32 graph over a calibration set with an observer on every activation tensor and
/// turns the observed ranges into a `QuantizationPlan`. Logits the INT8 executor stores stabilized
/// (`SoftmaxStabilization`) are observed after subtracting each row's max, so their range is [min, 0];
/// softmax outputs it stores with deferred normalization (`SoftmaxNormalization`) have fixed parameters;
/// ranges read only by saturating activations are cut where those stop changing (`ConsumerClipping`).
///
/// `observe` and `plan` split the work so a calibration set can be observed in blocks on several
/// machines: the blocks' `CalibrationStatistics` merge into exactly one run's, and give the same plan.
public enum Calibrator {
    /// `observe` over samples `0..<count`, then `plan`.
    /// - Parameters:
    ///   - count: number of calibration samples (at least 1).
    ///   - sample: the inputs of sample `i`, by input name.
    ///   - progress: called after each sample with (done, count).
    public static func calibrate(
        graph: Graph, recipe: QuantizationRecipe, count: Int, threads: Int,
        sample: (Int) throws -> [String: Tensor], progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> QuantizationPlan {
        guard count > 0 else { throw OnboardError.invalidArgument("the calibration set is empty") }
        let statistics = try observe(graph: graph, recipe: recipe, samples: 0..<count, threads: threads, sample: sample, progress: progress)
        return try plan(graph: graph, recipe: recipe, statistics: statistics)
    }

    /// Runs the FP32 graph over the calibration samples `samples` (possibly empty) and returns the
    /// observers' states.
    /// - Parameters:
    ///   - sample: the inputs of sample `i` (an index in `samples`), by input name.
    ///   - progress: called after each sample with (done, samples.count).
    public static func observe(
        graph: Graph, recipe: QuantizationRecipe, samples: Range<Int>, threads: Int, packedWeights: PackedWeightCache? = nil,
        sample: (Int) throws -> [String: Tensor], progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> CalibrationStatistics {
        guard samples.lowerBound >= 0 else {
            throw OnboardError.invalidArgument("calibration samples \(samples) start below 0")
        }
        let layout = LowBitLayout(graph: graph, recipe: recipe)
        var observers: [Int: any RangeObserver] = [:]
        for index in observedValues(graph, recipe: recipe) {
            observers[index] = makeObserver(for: index, graph: graph, recipe: recipe, layout: layout)
        }
        var lowBit = LowBitObservers(graph: graph, recipe: recipe, layout: layout)
        if !samples.isEmpty {
            let stabilized = SoftmaxStabilization.stabilizedValues(in: graph, recipe: recipe)
            let executor = try FP32Executor(graph: graph, threads: threads, packedWeights: packedWeights)
            executor.valueObserver = { id, values in
                if stabilized.contains(id.index), let width = graph.info(id).shape.last {
                    let rows = SoftmaxStabilization.stabilized(values, width: width)
                    try rows.withUnsafeBufferPointer { try observers[id.index]?.observe($0) }
                } else {
                    try observers[id.index]?.observe(values)
                }
                try lowBit.observe(id.index, values)
            }
            for i in samples {
                let inputs = try sample(i)
                do {
                    _ = try executor.run(inputs)
                } catch let error as OnboardError {
                    throw OnboardError.invalidArgument("calibration sample \(i): \(error)")
                }
                progress(i - samples.lowerBound + 1, samples.count)
            }
        }
        var states: [String: ObserverState] = [:]
        for (index, observer) in observers { states[graph.values[index].name] = observer.state }
        states.merge(lowBit.states) { first, _ in first }
        return CalibrationStatistics(recipe: recipe, samples: samples, observers: states)
    }

    /// The plan from `statistics` (observed with `recipe` on `graph`, over at least one sample).
    public static func plan(graph: Graph, recipe: QuantizationRecipe, statistics: CalibrationStatistics) throws -> QuantizationPlan {
        try statistics.checkFormat()
        try statistics.checkRecipe(recipe)
        guard !statistics.samples.isEmpty else { throw OnboardError.invalidArgument("the calibration set is empty") }
        let observed = observedValues(graph, recipe: recipe)
        let layout = LowBitLayout(graph: graph, recipe: recipe)
        let lowBitNames = LowBitObservers(graph: graph, recipe: recipe, layout: layout).states.keys
        try statistics.checkValueNames(Set(observed.map { graph.values[$0].name }).union(lowBitNames))
        let stabilized = SoftmaxStabilization.stabilizedValues(in: graph, recipe: recipe)
        var activations: [String: ActivationQuant] = [:]
        for index in SoftmaxNormalization.deferredValues(in: graph, recipe: recipe) {
            activations[graph.values[index].name] = SoftmaxNormalization.parameters
        }
        for index in observed {
            let name = graph.values[index].name
            var observer = makeObserver(for: index, graph: graph, recipe: recipe, layout: layout)
            if let state = statistics.observers[name] { try observer.merge(state) }
            if stabilized.contains(index) {
                let range = try observer.calibratedRange()
                activations[name] = SoftmaxStabilization.parameters(lower: range.min, clip: recipe.softmaxClip)
            } else {
                let bits = layout.activationBits[index] ?? 8
                activations[name] = ActivationQuant(try observer.quantParams(bits: bits, symmetric: recipe.symmetricActivations))
            }
        }
        try ConsumerClipping.apply(to: &activations, graph: graph, recipe: recipe)
        // Ops that only move codes (`QuantizationTraits.movesCodesOnly`) share their source's parameters.
        for (index, source) in inheritedParameters(graph).sorted(by: { $0.key < $1.key }) {
            activations[graph.values[index].name] = activations[graph.values[source].name]
        }
        var result = QuantizationPlan(recipe: recipe, activations: activations, calibrationSamples: statistics.samples.count)
        try LowBitObservers.parameters(into: &result, graph: graph, layout: layout, statistics: statistics)
        return result
    }

    /// The observer of value `index`: the recipe's, or for a low-bit value the `low_bit` observer at its bits.
    static func makeObserver(for index: Int, graph: Graph, recipe: QuantizationRecipe, layout: LowBitLayout) -> any RangeObserver {
        var options = observerOptions(recipe)
        guard let bits = layout.activationBits[index] else {
            return OnboardQuant.makeObserver(recipe.observer, item: graph.values[index].name, options: options)
        }
        options.bits = bits
        return OnboardQuant.makeObserver(recipe.lowBit?.activationObserver ?? recipe.observer, item: graph.values[index].name, options: options)
    }

    static func observerOptions(_ recipe: QuantizationRecipe) -> ObserverOptions {
        var options = ObserverOptions()
        options.symmetric = recipe.symmetricActivations
        options.percentile = recipe.percentile
        return options
    }

    /// Indices of the values that get an observer: computed f32 values whose parameters are neither
    /// inherited nor fixed.
    static func observedValues(_ graph: Graph, recipe: QuantizationRecipe) -> [Int] {
        let inherited = inheritedParameters(graph)
        let deferred = SoftmaxNormalization.deferredValues(in: graph, recipe: recipe)
        return graph.values.indices.filter { index in
            let info = graph.values[index]
            return info.role != .constant && info.dtype == .f32 && inherited[index] == nil && !deferred.contains(index)
        }
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
