import OnboardCore

/// `relu6(x + 3) / 6` element-wise, the same float operations as torch's `F.relu6(x + 3.0) / 6.0`.
struct HardSigmoidOp: OpDefinition {
    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) { try check.unaryElementwise() }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) { Self.run(inputs, output, context) }

    var quantization: QuantizationTraits { QuantizationTraits(form: .floatIsland, islandOnCodes: .unaryTable(saturates: true)) }

    static func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext) {
        let x = inputs[0].floats, y = output.floats
        Parallel.forRanges(count: output.count, threads: context.threads, grain: 4096) { range in
            for i in range { y[i] = apply(x[i]) }
        }
    }

    @inline(__always)
    static func apply(_ x: Float) -> Float {
        let shifted = x + 3
        // hardtanh(0, 6) keeps NaN, as torch's relu6 does.
        let clipped = shifted.isNaN ? shifted : min(max(shifted, 0), 6)
        return clipped / 6
    }
}
