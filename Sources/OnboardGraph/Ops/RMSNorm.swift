import OnboardCore

/// Root-mean-square normalization over the last axis, as Mamba's `RMSNorm` (`rms_norm_ref`):
/// `y = x · rsqrt(mean(x²) + ε) · w`, no bias, no mean subtraction. Rows spread over threads.
struct RMSNormOp: OpDefinition {
    let epsilon: Float

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(2...2)
        try check.float(0..<2)
        let shapes = check.shapes
        guard let d = shapes[0].last, shapes[1] == [d] else {
            throw check.fail("weight must be [\(shapes[0].last ?? 0)], got \(shapes[1])")
        }
        return (shapes[0], .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    var quantization: QuantizationTraits { QuantizationTraits(form: .floatIsland, islandOnCodes: nil, rowwise: true) }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        guard let n = inputs[0].shape.last, n > 0 else { return }
        let rows = inputs[0].count / n
        let x = inputs[0].floats, weight = inputs[1].floats, y = output.floats
        let epsilon = epsilon
        Parallel.forRanges(count: rows, threads: context.threads, grain: 16) { range in
            for row in range {
                let xs = x + row * n, ys = y + row * n
                var squares: Float = 0
                for i in 0..<n { squares += xs[i] * xs[i] }
                let scale = 1 / (squares / Float(n) + epsilon).squareRoot()
                for i in 0..<n { ys[i] = xs[i] * scale * weight[i] }
            }
        }
    }
}
