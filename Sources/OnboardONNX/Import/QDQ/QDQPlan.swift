import OnboardCore
import OnboardGraph

/// The INT8 plan and weights of an imported QDQ model, from the parameters it carries (no
/// calibration): each tensor a Q/DQ pair quantizes is stored with that pair's scale and zero point,
/// each integer op runs on the file's int8 weight codes (never quantized again). What the file
/// computes in float stays float: an op whose output has no Q/DQ pair is kept in float (its output
/// stored f32, its plan entry unused), and so is an op with an integer kernel whose weight or input
/// the file leaves float. Ops that only move or view codes share their input's parameters, as the
/// executor does; a file that quantizes one differently is refused.
public struct QDQPlan {
    public let plan: QuantizationPlan
    /// The integer ops' weights (the file's codes), by constant name, for `QuantizedBundle.save`.
    public let weights: [String: QuantizedWeight]
    /// Values the plan takes from the file, and ops kept in float because the file computes them in float.
    public let quantizedValues: Int
    public let keptFloat: [String]

    public init(graph: Graph, quantization: ImportedQuantization, source: String) throws {
        var recipe = QuantizationRecipe()
        recipe.consumerClipping = false
        var codes: [String: QuantizedWeight] = [:]
        for (name, weight) in quantization.weights { if case let .symmetric(w) = weight { codes[name] = w } }
        recipe.weights = codes.values.contains(where: \.perChannel) ? .perChannel : .perTensor
        let cache = QuantizedWeightCache()
        for (name, weight) in codes { _ = cache.value(name) { weight } }

        let file = quantization.activations
        for input in graph.inputs where graph.info(input).dtype == .f32 && file[graph.info(input).name] == nil {
            throw OnboardError.model(item: "input '\(graph.info(input).name)'",
                                     reason: "has no QuantizeLinear; Onboard's INT8 executor takes its float inputs as codes, so the file must quantize them")
        }
        // Every tensor gets parameters (the plan must cover the graph); those stored f32 get a placeholder.
        func complete(_ effective: [ValueID: ActivationQuant]) -> [String: ActivationQuant] {
            var all: [String: ActivationQuant] = [:]
            for info in graph.values where info.role != .constant && info.dtype == .f32 { all[info.name] = file[info.name] }
            for node in graph.nodes where all[graph.info(node.output).name] == nil && graph.info(node.output).dtype == .f32 {
                all[graph.info(node.output).name] = node.inputs.lazy.compactMap { effective[$0] }.first ?? ActivationQuant(scale: 1, zeroPoint: 128)
            }
            for (id, params) in effective { all[graph.info(id).name] = params }
            return all
        }
        var keep = Set<String>(), effective: [ValueID: ActivationQuant] = [:]
        for input in graph.inputs { effective[input] = file[graph.info(input).name] }
        var plan = QuantizationPlan(recipe: recipe, activations: complete(effective), calibrationSamples: 0)
        // Which ops move codes, and which run integer kernels, is the executor's decision: ask it.
        let first = try Int8Executor(graph: graph, plan: plan, threads: 1, planSource: source, weightCache: cache)
        for (node, execution) in zip(first.graph.nodes, first.executions) {
            let name = graph.info(node.output).name
            switch execution {
            case .view, .movement:
                effective[node.output] = node.inputs.first.flatMap { effective[$0] }
                if let own = file[name], let moved = effective[node.output], own != moved {
                    throw OnboardError.model(item: "node '\(node.name)' (\(node.op.kind))", reason: "its output '\(name)' is quantized with scale \(own.scale) and "
                        + "zero point \(own.zeroPoint) (as u8), its input with \(moved.scale) and \(moved.zeroPoint); Onboard moves codes without requantizing")
                }
            case .integer:
                let inputs = node.inputs.filter { graph.constants[$0] == nil }
                var floatWeight = false
                if ["linear", "conv2d"].contains(node.op.kind), node.inputs.count > 1, graph.constants[node.inputs[1]] != nil {
                    switch quantization.weights[graph.info(node.inputs[1]).name] {
                    case let .unusable(error)?: throw error
                    case .symmetric?: break
                    case nil: floatWeight = true
                    }
                }
                if floatWeight || file[name] == nil || inputs.contains(where: { effective[$0] == nil }) {
                    keep.insert(node.name)
                } else {
                    effective[node.output] = file[name]
                }
            case .floatIsland, .keptFloat:
                if let own = file[name] { effective[node.output] = own } else { keep.insert(node.name) }
            case .precomputed:
                effective[node.output] = file[name]
            }
        }
        recipe.keepFloat = keep.sorted()
        plan = QuantizationPlan(recipe: recipe, activations: complete(effective), calibrationSamples: 0)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 1, planSource: source, weightCache: cache)
        let weights = executor.quantizedWeights()
        if let requantized = weights.keys.sorted().first(where: { codes[$0] == nil }) {
            throw OnboardError.model(item: "constant '\(requantized)'", reason: "an integer op's weight that the file does not hold as int8 codes")
        }
        self.plan = plan
        self.weights = weights
        quantizedValues = effective.count
        keptFloat = recipe.keepFloat
    }
}
