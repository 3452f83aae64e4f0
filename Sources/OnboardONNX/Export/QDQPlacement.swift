import OnboardCore
import OnboardGraph

/// Where an INT8 export puts QuantizeLinear / DequantizeLinear: after each value the INT8 executor
/// stores as codes (with its scale, zero point and code range), except those that only move or
/// view codes of a value already quantized the same way. Values kept in float get none.
public struct QDQPlacement {
    /// The parameters of each value to fake-quantize, by value.
    public let activations: [ValueID: ActivationQuant]

    public init(activations: [ValueID: ActivationQuant]) { self.activations = activations }

    /// The placement of `executor`; throws for recipes whose stored codes do not mean the tensor's
    /// values (a stabilized or deferred softmax), which QDQ cannot express.
    public init(_ executor: Int8Executor) throws {
        if let id = (executor.stabilizedValues.union(executor.deferredValues)).min() {
            throw OnboardError.invalidArgument("tensor '\(executor.graph.info(id).name)' is stored as a stabilized or deferred softmax "
                + "(recipe keys softmax_input / softmax_output), which QuantizeLinear/DequantizeLinear cannot express")
        }
        var activations: [ValueID: ActivationQuant] = [:]
        for input in executor.graph.inputs { if let q = executor.storedQuantization(of: input) { activations[input] = q } }
        for (node, execution) in zip(executor.graph.nodes, executor.executions) where execution != .view && execution != .movement {
            if let q = executor.storedQuantization(of: node.output) { activations[node.output] = q }
        }
        self.activations = activations
    }
}
