import OnboardCore

/// Same elements, new shape: a view of its input (the memory planner gives both one buffer, so the
/// kernel copies only when the executor stores them apart).
struct ReshapeOp: OpDefinition {
    let target: [Int]

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...1)
        guard target.reduce(1, *) == check.inputs[0].count, target.allSatisfy({ $0 >= 0 }) else {
            throw check.fail("cannot reshape \(check.shapes[0]) to \(target)")
        }
        return (target, check.inputs[0].dtype)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        if output.pointer != inputs[0].pointer {
            output.pointer.copyMemory(from: inputs[0].pointer, byteCount: output.count * output.dtype.byteSize)
        }
    }

    var quantization: QuantizationTraits { .view }
}
