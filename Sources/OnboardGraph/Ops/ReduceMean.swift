import OnboardCore

/// Mean over one axis (accumulated in Double).
struct ReduceMeanOp: OpDefinition {
    let axis: Int
    let keepDims: Bool

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...1)
        try check.float(0..<1)
        let shape = check.shapes[0]
        guard axis >= 0, axis < shape.count else { throw check.fail("axis \(axis) out of range for \(shape)") }
        var out = shape
        if keepDims { out[axis] = 1 } else { out.remove(at: axis) }
        return (out, .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    var quantization: QuantizationTraits { .floatIsland }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.run(inputs[0], output, axis: axis)
    }

    static func run(_ input: Operand, _ output: Operand, axis: Int) {
        let outer = input.shape[..<axis].reduce(1, *)
        let extent = input.shape[axis]
        let inner = input.shape[(axis + 1)...].reduce(1, *)
        let x = input.floats, y = output.floats
        var sums = [Double](repeating: 0, count: inner)
        for o in 0..<outer {
            for i in 0..<inner { sums[i] = 0 }
            for a in 0..<extent {
                let row = x + (o * extent + a) * inner
                for i in 0..<inner { sums[i] += Double(row[i]) }
            }
            for i in 0..<inner { y[o * inner + i] = extent == 0 ? .nan : Float(sums[i] / Double(extent)) }
        }
    }
}
