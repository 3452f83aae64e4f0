import CKernels
import OnboardCore

/// Normalization over the last axis (biased variance), rows spread over threads.
struct LayerNormOp: OpDefinition {
    let epsilon: Float

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(3...3)
        try check.float(0..<3)
        let shapes = check.shapes
        guard let d = shapes[0].last, shapes[1] == [d], shapes[2] == [d] else {
            throw check.fail("weight and bias must be [\(shapes[0].last ?? 0)], got \(shapes[1]) and \(shapes[2])")
        }
        return (shapes[0], .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.run(inputs, output, epsilon: epsilon, context)
    }

    var quantization: QuantizationTraits {
        QuantizationTraits(form: .integerKernel(.layerNorm(epsilon: epsilon)), islandOnCodes: .rows(.layerNorm(epsilon: epsilon)))
    }

    static func run(_ inputs: [Operand], _ output: Operand, epsilon: Float, _ context: KernelContext) {
        guard let n = inputs[0].shape.last, n > 0 else { return }
        let rows = inputs[0].count / n
        let x = inputs[0].floats, y = output.floats, gamma = inputs[1].floats, beta = inputs[2].floats
        Parallel.forRanges(count: rows, threads: context.threads, grain: 16) { range in
            onboard_f32_layernorm_rows(x + range.lowerBound * n, y + range.lowerBound * n, range.count, n, gamma, beta, epsilon)
        }
    }
}
