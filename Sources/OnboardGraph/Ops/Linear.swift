import OnboardCore

/// `y = x · Wᵀ + b` over the last axis; b is [N] (per output column) or of the output's shape
/// (per output element, e.g. a constant addend folded in by `ConstantAddendFolding`).
struct LinearOp: OpDefinition {
    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(2...3)
        try check.float([0, 2])
        try check.weight(1)
        return (try Self.outputShape(check.shapes, fail: check.fail), .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) { Self.run(inputs, output, context) }

    var quantization: QuantizationTraits { QuantizationTraits(form: .integerKernel(.linear), islandOnCodes: nil) }

    static func outputShape(_ s: [[Int]], fail: (String) -> OnboardError) throws -> [Int] {
        guard let k = s[0].last, s[1].count == 2, s[1][1] == k else {
            throw fail("input \(s[0]) and weight \(s[1]) disagree: weight must be [N, \(s[0].last ?? 0)]")
        }
        let output = Array(s[0].dropLast()) + [s[1][0]]
        if s.count == 3, s[2] != [s[1][0]], s[2] != output {
            throw fail("bias must be [\(s[1][0])] or \(output), got \(s[2])")
        }
        return output
    }

    /// The weight packed for the GEMM kernel (done once, when the weight is a constant).
    static func pack(_ weight: Operand) -> PackedMatrix {
        PackedMatrix(weight.floats, k: weight.shape[1], n: weight.shape[0], transposed: true)
    }

    static func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext) {
        let n = inputs[1].shape[0], k = inputs[1].shape[1]
        let m = n == 0 ? 0 : output.count / n
        let y = output.floats
        let columnBias = inputs.count == 3 && inputs[2].count == n ? UnsafePointer(inputs[2].floats) : nil
        let elementBias = inputs.count == 3 && columnBias == nil ? UnsafePointer(inputs[2].floats) : nil
        if let packed = context.packed {
            PackedGEMM.multiply(m: m, a: inputs[0].floats, lda: k, b: packed, bias: columnBias, c: y, ldc: n, threads: context.threads)
            if let elementBias { for i in 0..<(m * n) { y[i] += elementBias[i] } }
            return
        }
        if let columnBias { for row in 0..<m { (y + row * n).update(from: columnBias, count: n) } }
        if let elementBias { y.update(from: elementBias, count: m * n) }
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if inputs.count < 3 { y.update(repeating: 0, count: m * n) }
            return
        }
        sgemm(m: m, n: n, k: k, a: inputs[0].floats, lda: k, b: inputs[1].floats, ldb: k, transposeB: true,
              c: y, ldc: n, accumulate: inputs.count == 3, threads: context.threads)
    }
}
