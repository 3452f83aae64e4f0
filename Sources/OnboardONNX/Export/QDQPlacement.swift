import OnboardCore
import OnboardGraph

/// Where an INT8 export puts QuantizeLinear / DequantizeLinear: after each value the INT8 executor
/// stores as codes (with its scale, zero point and code range), except those that only move or
/// view codes of a value already quantized the same way. Values kept in float get none.
/// Softmax logits stored stabilized (Q-PETR's QANS) are fake-quantized as `x - ReduceMax(x)`, the
/// values their codes hold; the softmax reading them computes the same.
public struct QDQPlacement {
    /// The parameters of each value to fake-quantize, by value.
    public let activations: [ValueID: ActivationQuant]
    /// Values whose codes hold each row minus its max.
    public let stabilized: Set<ValueID>
    /// The codes and scales each integer op runs on, by weight: those a quantized bundle stores, and
    /// those the executor quantizes when it loads (weights the model builder derives, such as the q,
    /// k and v slices of a packed attention projection).
    public let weights: [ValueID: QuantizedWeight]

    public init(activations: [ValueID: ActivationQuant], stabilized: Set<ValueID> = [], weights: [ValueID: QuantizedWeight] = [:]) {
        self.activations = activations
        self.stabilized = stabilized
        self.weights = weights
    }

    /// The placement of `executor`; throws for recipes whose stored codes do not mean the tensor's
    /// values (a deferred softmax, Shift-Log2 codes), or whose Linears compute what a
    /// QDQ graph cannot (per-patch inputs with float outliers, CFWS's two weight parts, grouped weights).
    public init(_ executor: Int8Executor) throws {
        let plan = executor.plan
        let lowBit = plan.recipe.lowBit
        if plan.perToken != nil || plan.logCodes != nil || lowBit?.cfwsFraction != nil || lowBit?.dynamicPerToken == true
            || lowBit?.weightGroupSize != nil {
            throw OnboardError.invalidArgument("the recipe's low_bit part (post_layernorm \"per_patch\", post_gelu \"shift_log2\", "
                + "cfws_fraction, dynamic_per_token or weight_group_size) has no QuantizeLinear/DequantizeLinear form; export a naive low_bit recipe, or an 8-bit one")
        }
        if let id = executor.deferredValues.min() {
            throw OnboardError.invalidArgument("tensor '\(executor.graph.info(id).name)' is stored as a softmax with deferred "
                + "normalization (recipe key softmax_output \"deferred\"), which QuantizeLinear/DequantizeLinear cannot express; "
                + "export a recipe with \"softmax_output\": \"normalized\"")
        }
        var activations: [ValueID: ActivationQuant] = [:]
        for input in executor.graph.inputs { if let q = executor.storedQuantization(of: input) { activations[input] = q } }
        for (node, execution) in zip(executor.graph.nodes, executor.executions) where execution != .view && execution != .movement {
            if let q = executor.storedQuantization(of: node.output) { activations[node.output] = q }
        }
        self.activations = activations
        stabilized = executor.stabilizedValues
        let byName = executor.quantizedWeights()
        weights = executor.graph.constants.keys.reduce(into: [:]) { result, id in
            result[id] = byName[executor.graph.info(id).name]
        }
    }
}
