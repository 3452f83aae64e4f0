import OnboardCore

/// Numpy broadcasting over constants: the output shape and, per operand, the flat source index
/// of each output element.
enum ConstantBroadcast {
    static func shape(_ shapes: [[Int]], node: ONNXNode) throws -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for shape in shapes {
            for (offset, dim) in shape.reversed().enumerated() {
                let i = rank - 1 - offset
                if out[i] == 1 { out[i] = dim } else if dim != 1 && dim != out[i] {
                    throw node.fail("shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not broadcast")
                }
            }
        }
        return out
    }

    /// For each output element of `out`, the flat index into a tensor of `shape` broadcast to it.
    static func sourceIndices(_ shape: [Int], to out: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: out.count - shape.count) + shape
        let strides = zip(ShapeRules.strides(padded), padded).map { $1 == 1 ? 0 : $0 }
        return ShapeRules.gatherIndices(out: out) { coordinate in zip(coordinate, strides).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    /// `body` applied element-wise to broadcast operands; integer when every operand is.
    static func map(_ operands: [ConstantValue], node: ONNXNode,
                    floats: ([Float]) -> Float, integers: (([Int64]) -> Int64)?) throws -> ConstantValue {
        let out = try shape(operands.map(\.shape), node: node)
        try MemoryLimit.requireAllocatable(out, item: node.name)
        let sources = operands.map { sourceIndices($0.shape, to: out) }
        let count = out.reduce(1, *)
        if let integers, operands.allSatisfy(\.isInteger) {
            let values = operands.map(\.integers)
            return ConstantValue(shape: out, integers: (0..<count).map { i in integers(values.indices.map { values[$0][sources[$0][i]] }) })
        }
        let values = operands.map(\.floats)
        return ConstantValue(shape: out, floats: (0..<count).map { i in floats(values.indices.map { values[$0][sources[$0][i]] }) })
    }
}
