import OnboardGraph

/// Matrix products: a known right-hand matrix makes a linear layer (weight stored [N, K]), two
/// run-time operands a batched matmul.
enum LinearRules {
    static let matMul = ONNXOpRule(lower: { node, context in
        let output = node.outputs[0]
        if let weight = context.constant(node.input(1)), weight.shape.count == 2 {
            let w = try context.graphConstant(transposed(weight), key: (node.input(1) ?? output) + "^T")
            return [.runtime(try context.emit(.linear, [try context.runtime(0, of: node), w], name: output))]
        }
        let a = try context.runtime(0, of: node), b = try context.runtime(1, of: node)
        let (sa, sb) = (context.builder.shape(a), context.builder.shape(b))
        guard sa.count >= 2, sb.count >= 2, sb.count == 2 || sb.dropLast(2) == sa.dropLast(2) else {
            throw node.fail("operands \(sa) and \(sb): batch dimensions must be equal (or the right-hand side 2-D)")
        }
        return [.runtime(try context.emit(.matmul(transposeB: false), [a, b], name: output))]
    })

    /// `MatMul` + `Add` of a known [N] bias (`ONNXFusions` makes it from the two).
    static let linear = ONNXOpRule(lower: { node, context in
        let weight = try context.requireConstant(1, of: node, what: "weight")
        let w = try context.graphConstant(transposed(weight), key: (node.input(1) ?? "") + "^T")
        let bias = try context.runtime(2, of: node)
        return [.runtime(try context.emit(.linear, [try context.runtime(0, of: node), w, bias], name: node.outputs[0]))]
    })

    /// `alpha · A · B + beta · C` with A [M, K] at run time and B, C known.
    static let gemm = ONNXOpRule(lower: { node, context in
        guard try node.int("transA", default: 0) == 0 else { throw node.fail("transA is not supported") }
        var weight = try context.requireConstant(1, of: node, what: "weight")
        guard weight.shape.count == 2 else { throw node.fail("B must be 2-D") }
        if try node.int("transB", default: 0) == 0 { weight = transposed(weight) }
        let alpha = node.float("alpha", default: 1), beta = node.float("beta", default: 1)
        if alpha != 1 { weight = ConstantValue(shape: weight.shape, floats: weight.floats.map { $0 * alpha }) }
        let key = (node.input(1) ?? node.name) + (try node.int("transB", default: 0) == 0 ? "^T" : "") + (alpha != 1 ? "*\(alpha)" : "")
        var operands = [try context.runtime(0, of: node), try context.graphConstant(weight, key: key)]
        if node.input(2) != nil {
            var bias = try context.requireConstant(2, of: node, what: "bias")
            let n = weight.shape[0]
            if beta == 1, bias.shape == [n] {
                operands.append(try context.runtime(2, of: node))
                return [.runtime(try context.emit(.linear, operands, name: node.outputs[0]))]
            }
            guard bias.count == n || bias.count == 1 else { throw node.fail("C must broadcast to [\(n)] (per output), got \(bias.shape)") }
            bias = ConstantValue(shape: [n], floats: (0..<n).map { bias.floats[bias.count == 1 ? 0 : $0] * beta })
            operands.append(try context.graphConstant(bias, key: (node.input(2) ?? "") + "*\(beta)[\(n)]"))
        }
        return [.runtime(try context.emit(.linear, operands, name: node.outputs[0]))]
    })

    private static func transposed(_ matrix: ConstantValue) -> ConstantValue {
        let (rows, columns) = (matrix.shape[0], matrix.shape[1])
        let values = matrix.floats
        var out = [Float](repeating: 0, count: values.count)
        for r in 0..<rows {
            for c in 0..<columns { out[c * rows + r] = values[r * columns + c] }
        }
        return ConstantValue(shape: [columns, rows], floats: out)
    }
}
