import OnboardCore
import OnboardGraph

/// The quantization a QDQ model carries, on the imported graph: activation parameters by graph
/// value name, and the int8 codes of weights by graph constant name, in the graph's layout (a
/// linear layer's [N, K]). `QDQPlan` makes an INT8 plan and bundle of them.
public struct ImportedQuantization {
    /// A weight's codes with one scale per tensor or per output channel, or why the INT8
    /// executor cannot take them (asymmetric, uint8, -128, a per-channel axis over the inputs):
    /// an error only if the weight's op runs on integer kernels.
    public enum WeightCodes {
        case symmetric(QuantizedWeight)
        case unusable(OnboardError)
    }

    public let activations: [String: ActivationQuant]
    public let weights: [String: WeightCodes]

    init(_ annotations: QDQAnnotations, context: ImportContext) throws {
        var activations: [String: ActivationQuant] = [:], sources: [String: String] = [:]
        for (name, annotation) in annotations.activations.sorted(by: { $0.key < $1.key }) {
            guard case let .runtime(id)? = context.values[name] else { continue }
            let graphName = context.builder.info(id).name
            if let earlier = activations[graphName], earlier != annotation.params {
                throw OnboardError.model(item: "tensor '\(graphName)'",
                                         reason: "QuantizeLinear nodes '\(sources[graphName] ?? "")' and '\(annotation.node)' quantize it differently")
            }
            activations[graphName] = annotation.params
            sources[graphName] = annotation.node
        }
        var weights: [String: WeightCodes] = [:]
        for (key, id) in context.promoted {
            let transposed = key.hasSuffix("^T")
            guard let weight = annotations.weights[transposed ? String(key.dropLast(2)) : key] else { continue }
            weights[context.builder.info(id).name] = Self.codes(weight, transposed: transposed)
        }
        self.activations = activations
        self.weights = weights
    }

    /// The codes of `weight` as the graph holds it (transposed: a linear layer's [K, N] right side
    /// stored [N, K]), with one scale per output channel (graph dimension 0).
    private static func codes(_ weight: QDQAnnotations.Weight, transposed: Bool) -> WeightCodes {
        let p = weight.parameters
        func unusable(_ field: String, _ reason: String) -> WeightCodes {
            .unusable(.model(item: "node '\(weight.node)' (DequantizeLinear)", reason: "\(field) \(reason)"))
        }
        guard weight.type == .int8 else {
            return unusable("x", "holds uint8 codes; Onboard's integer kernels take symmetric int8 weights (quantize_static with weight_type=QuantType.QInt8)")
        }
        guard p.zeroPoints.allSatisfy({ $0 == 0 }) else {
            return unusable("x_zero_point", "is not 0 (asymmetric weights); Onboard's integer kernels take symmetric int8 weights (WeightSymmetric=True, the default for int8)")
        }
        guard weight.codes.allSatisfy({ $0 >= -127 && $0 <= 127 }) else {
            return unusable("x", "holds the code -128; Onboard's int8 weights are -127...127 (symmetric)")
        }
        let outputAxis = transposed ? 1 : 0
        if let axis = p.axis, axis != outputAxis || weight.shape.count < 2 {
            return unusable("axis", "is \(axis): per-channel scales along the layer's inputs; Onboard's weights have one scale per output channel (axis \(outputAxis) here)")
        }
        guard !transposed || weight.shape.count == 2 else { return unusable("x", "of shape \(weight.shape) is not a matrix") }
        let shape = transposed ? [weight.shape[1], weight.shape[0]] : weight.shape
        let tensor = Tensor(zeros: shape, dtype: .i8)
        let target = tensor.rawPointer.assumingMemoryBound(to: Int8.self)
        let (k, n) = transposed ? (weight.shape[0], weight.shape[1]) : (1, 1)
        for (i, code) in weight.codes.enumerated() {
            target[transposed ? (i % n) * k + i / n : i] = Int8(code)
        }
        return .symmetric(QuantizedWeight(codes: tensor, scales: p.scales))
    }
}
