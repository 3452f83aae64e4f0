import OnboardCore

/// Elements `start..<end` by `step` along one axis. Pure data movement, so it works on any element
/// size (f32 values, u8 codes).
struct SliceOp: OpDefinition {
    let axis: Int
    let start: Int
    let end: Int
    let step: Int

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...1)
        let shape = check.shapes[0]
        guard axis >= 0, axis < shape.count else { throw check.fail("axis \(axis) out of range for \(shape)") }
        guard step >= 1, start >= 0, start <= end, end <= shape[axis] else {
            throw check.fail("slice \(start)..<\(end) step \(step) invalid for dimension \(shape[axis])")
        }
        var out = shape
        out[axis] = (end - start + step - 1) / step
        return (out, check.inputs[0].dtype)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.slice(inputs[0], output, axis: axis, start: start, step: step)
    }

    var quantization: QuantizationTraits { .movesCodesOnly }

    static func slice(_ input: Operand, _ output: Operand, axis: Int, start: Int, step: Int) {
        let outer = input.shape[..<axis].reduce(1, *)
        let inner = input.shape[(axis + 1)...].reduce(1, *)
        let elementSize = output.dtype.byteSize
        let inRow = input.shape[axis] * inner * elementSize
        let outCount = output.shape[axis]
        for o in 0..<outer {
            let src = input.pointer + o * inRow, dst = output.pointer + o * outCount * inner * elementSize
            if step == 1 {
                dst.copyMemory(from: src + start * inner * elementSize, byteCount: outCount * inner * elementSize)
            } else {
                for i in 0..<outCount {
                    (dst + i * inner * elementSize).copyMemory(from: src + (start + i * step) * inner * elementSize,
                                                               byteCount: inner * elementSize)
                }
            }
        }
    }
}
