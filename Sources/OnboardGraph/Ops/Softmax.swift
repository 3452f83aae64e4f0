import CKernels
import OnboardCore

/// Softmax over the last axis, rows spread over threads.
struct SoftmaxOp: OpDefinition {
    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...1)
        try check.float(0..<1)
        guard !check.shapes[0].isEmpty else { throw check.fail("needs rank >= 1") }
        return (check.shapes[0], .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) { Self.run(inputs, output, context) }

    var quantization: QuantizationTraits { QuantizationTraits(form: .integerKernel(.softmax), islandOnCodes: .rows(.softmax)) }

    static func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext) {
        guard let n = inputs[0].shape.last, n > 0 else { return }
        let rows = inputs[0].count / n
        let x = inputs[0].floats, y = output.floats
        Parallel.forRanges(count: rows, threads: context.threads, grain: 16) { range in
            onboard_f32_softmax_rows(x + range.lowerBound * n, y + range.lowerBound * n, range.count, n)
        }
    }
}
