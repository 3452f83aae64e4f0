import OnboardCore

/// Inputs joined along one axis. The INT8 executor runs it as a float island: each input has
/// parameters of its own.
struct ConcatOp: OpDefinition {
    let axis: Int

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...Int.max)
        try check.float(0..<check.inputs.count)
        return (try Self.concatShape(check.shapes, axis: axis, fail: check.fail), .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.concat(inputs, output, axis: axis)
    }

    var quantization: QuantizationTraits { .floatIsland }

    static func concatShape(_ s: [[Int]], axis: Int, fail: (String) -> OnboardError) throws -> [Int] {
        let first = s[0]
        guard axis >= 0, axis < first.count else { throw fail("axis \(axis) out of range for \(first)") }
        var out = first
        out[axis] = 0
        for shape in s {
            guard shape.count == first.count,
                  shape.indices.allSatisfy({ $0 == axis || shape[$0] == first[$0] }) else {
                throw fail("shapes \(s) differ outside axis \(axis)")
            }
            out[axis] += shape[axis]
        }
        return out
    }

    static func concat(_ inputs: [Operand], _ output: Operand, axis: Int) {
        let outer = output.shape[..<axis].reduce(1, *)
        let inner = output.shape[(axis + 1)...].reduce(1, *)
        let elementSize = output.dtype.byteSize
        let outRow = output.shape[axis] * inner * elementSize
        var offset = 0
        for input in inputs {
            let row = input.shape[axis] * inner * elementSize
            for o in 0..<outer {
                (output.pointer + o * outRow + offset).copyMemory(from: input.pointer + o * row, byteCount: row)
            }
            offset += row
        }
    }
}
