import OnboardCore
import OnboardGraph

/// Builds graph pieces from checkpoint modules by name (`linear("blocks.0.mlp.fc1", x)`),
/// taking weights from a `WeightStore`; node names follow the checkpoint's module names.
public struct ModuleBuilder {
    public let graph: GraphBuilder
    public let weights: WeightStore

    public init(graph: GraphBuilder, weights: WeightStore) {
        self.graph = graph
        self.weights = weights
    }

    public func parameter(_ name: String, shape: [Int]) throws -> ValueID {
        let tensor = try weights.take(name, shape: shape)
        return try graph.constant(name, tensor, scales: weights.scales[name])
    }

    /// `torch.nn.Linear(inFeatures, outFeatures)` named `module`.
    public func linear(_ module: String, _ x: ValueID, out: Int, bias: Bool = true) throws -> ValueID {
        let k = graph.shape(x).last ?? 0
        var operands = [x, try parameter("\(module).weight", shape: [out, k])]
        if bias { operands.append(try parameter("\(module).bias", shape: [out])) }
        return try graph.node(.linear, operands, name: module)
    }

    /// `torch.nn.LayerNorm(D, eps)` named `module`.
    public func layerNorm(_ module: String, _ x: ValueID, epsilon: Float) throws -> ValueID {
        let d = graph.shape(x).last ?? 0
        return try graph.node(.layerNorm(epsilon: epsilon), [
            x, try parameter("\(module).weight", shape: [d]), try parameter("\(module).bias", shape: [d]),
        ], name: module)
    }

    /// `torch.nn.Conv2d` named `module`.
    public func conv2d(_ module: String, _ x: ValueID, out: Int, kernel: Int, params: Conv2dParams, bias: Bool = true) throws -> ValueID {
        let inChannels = graph.shape(x)[1] / params.groups
        var operands = [x, try parameter("\(module).weight", shape: [out, inChannels, kernel, kernel])]
        if bias { operands.append(try parameter("\(module).bias", shape: [out])) }
        return try graph.node(.conv2d(params), operands, name: module)
    }

    /// A prefix-token parameter stored [1, 1, D] (or [1, n, D]), repeated over the batch.
    public func tokens(_ name: String, count: Int, width: Int, batch: Int) throws -> ValueID {
        let stored = try weights.take(name, shape: [1, count, width])
        let tiled = Tensor(zeros: [batch, count, width])
        for b in 0..<batch {
            (tiled.floatPointer + b * count * width).update(from: stored.floatPointer, count: count * width)
        }
        return try graph.constant(name, tiled)
    }
}
