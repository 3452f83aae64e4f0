import OnboardGraph

/// Normalizations, softmax and means.
enum NormalizationRules {
    /// Over the last axis only, with its scale and (or a zero) bias.
    static let layerNormalization = ONNXOpRule(lower: { node, context in
        let x = try context.runtime(0, of: node)
        let shape = context.builder.shape(x)
        guard try node.axis(try node.int("axis", default: -1), rank: shape.count) == shape.count - 1 else {
            throw node.fail("only normalization over the last axis is supported")
        }
        guard let width = shape.last, try context.shape(node.input(1) ?? "", for: node) == [width] else {
            throw node.fail("its scale must be a known vector of \(shape.last ?? 0)")
        }
        let bias = node.input(2) != nil ? try context.runtime(2, of: node)
            : try context.graphConstant(ConstantValue(shape: [width], floats: [Float](repeating: 0, count: width)), key: node.name + "/zero_bias")
        guard node.outputs.filter({ !$0.isEmpty }).count == 1 else { throw node.fail("the Mean and InvStdDev outputs are not supported") }
        let epsilon = node.float("epsilon", default: 1e-5)
        return [.runtime(try context.emit(.layerNorm(epsilon: epsilon), [x, try context.runtime(1, of: node), bias], name: node.outputs[0]))]
    })

    /// Inference batch norm over channels (axis 1): `x · s + t` with s, t per channel, known.
    static let batchNormalization = ONNXOpRule(lower: { node, context in
        let x = try context.runtime(0, of: node)
        let shape = context.builder.shape(x)
        let parameters = try (1...4).map { try context.requireConstant($0, of: node, what: ["", "scale", "bias", "mean", "variance"][$0]).floats }
        guard shape.count >= 2, parameters.allSatisfy({ $0.count == shape[1] }) else {
            throw node.fail("scale, bias, mean and variance must each hold one value per channel of \(shape)")
        }
        let epsilon = node.float("epsilon", default: 1e-5)
        let channels = shape[1], broadcast = [channels] + [Int](repeating: 1, count: shape.count - 2)
        let scale = (0..<channels).map { parameters[0][$0] / (parameters[3][$0] + epsilon).squareRoot() }
        let shift = (0..<channels).map { parameters[1][$0] - parameters[2][$0] * scale[$0] }
        let s = try context.graphConstant(ConstantValue(shape: broadcast, floats: scale), key: node.name + "/scale")
        let t = try context.graphConstant(ConstantValue(shape: broadcast, floats: shift), key: node.name + "/shift")
        let scaled = try context.emit(.mul, [x, s], name: node.outputs[0] + "/scaled")
        return [.runtime(try context.emit(.add, [scaled, t], name: node.outputs[0]))]
    })

    /// Over the last axis (opset 13+'s default); an earlier opset's 2-D coercion only where it is the same.
    static let softmax = ONNXOpRule(lower: { node, context in
        let x = try context.runtime(0, of: node)
        let rank = context.builder.shape(x).count
        let axis = try node.axis(try node.int("axis", default: node.opset >= 13 ? -1 : 1), rank: rank)
        guard axis == rank - 1 else { throw node.fail("softmax over axis \(axis) of \(rank) is not supported (only the last)") }
        return [.runtime(try context.emit(.softmax, [x], name: node.outputs[0]))]
    })

    /// One mean per axis, the last axis first.
    static let reduceMean = ONNXOpRule(lower: { node, context in
        var x = try context.runtime(0, of: node)
        let rank = context.builder.shape(x).count
        let given = node.opset >= 18 ? context.constant(node.input(1))?.ints : try node.ints("axes")
        if node.opset >= 18, node.input(1) != nil, given == nil { throw node.fail("its axes must be known when the model is imported") }
        let keep = try node.int("keepdims", default: 1) != 0
        let axes = try ShapeRules.axes(given ?? Array(0..<rank), rank: rank, node: node).sorted(by: >)
        guard !axes.isEmpty else { return [.runtime(x)] }
        for (i, axis) in axes.enumerated() {
            x = try context.emit(.reduceMean(axis: axis, keepDims: keep), [x], name: i == axes.count - 1 ? node.outputs[0] : "\(node.outputs[0])/axis\(axis)")
        }
        return [.runtime(x)]
    })
}
