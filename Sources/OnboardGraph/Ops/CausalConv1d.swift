import OnboardCore

/// Depthwise convolution along the sequence of a token-major x [B, L, C] (Mamba's `conv1d`:
/// `nn.Conv1d(C, C, K, groups=C, padding=K-1)` cut to the first L outputs), weight [C, 1, K],
/// bias [C]:
///   causal:    y[t, c] = bias[c] + Σ_k w[c, k] · x[t - (K-1) + k, c]
///   `reverse`: y[t, c] = bias[c] + Σ_k w[c, k] · x[t + (K-1) - k, c]
/// with zeros outside the sequence. The reverse form is the causal convolution of the flipped
/// sequence, flipped back (Vim's backward branch), computed in the original order.
struct CausalConv1dOp: OpDefinition {
    let reverse: Bool

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(3...3)
        try check.float([0, 2])
        try check.weight(1)
        let shapes = check.shapes
        guard shapes[0].count == 3 else { throw check.fail("input must be [batch, length, channels], got \(shapes[0])") }
        let channels = shapes[0][2]
        guard shapes[1].count == 3, shapes[1][0] == channels, shapes[1][1] == 1, shapes[1][2] >= 1 else {
            throw check.fail("weight must be [\(channels), 1, kernel], got \(shapes[1])")
        }
        guard shapes[2] == [channels] else { throw check.fail("bias must be [\(channels)], got \(shapes[2])") }
        return (shapes[0], .f32)
    }

    /// The weight transposed to [K, C], so that every tap reads a contiguous row.
    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { inputs[1].reduce(1, *) * 4 }

    var quantization: QuantizationTraits { QuantizationTraits(form: .integerKernel(.causalConv1d(reverse: reverse)), islandOnCodes: nil) }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        let (batch, length, channels) = (inputs[0].shape[0], inputs[0].shape[1], inputs[0].shape[2])
        let taps = inputs[1].shape[2]
        let x = inputs[0].floats, weight = inputs[1].floats, bias = inputs[2].floats, y = output.floats
        let tapRows = context.scratch.assumingMemoryBound(to: Float.self)
        for c in 0..<channels {
            for k in 0..<taps { tapRows[k * channels + c] = weight[c * taps + k] }
        }
        let reverse = reverse
        Parallel.forRanges(count: batch * length, threads: context.threads, grain: 8) { range in
            for row in range {
                let b = row / length, t = row % length
                let out = y + row * channels
                out.update(from: bias, count: channels)
                for k in 0..<taps {
                    let source = reverse ? t + (taps - 1) - k : t - (taps - 1) + k
                    guard source >= 0, source < length else { continue }
                    let xs = x + (b * length + source) * channels, w = tapRows + k * channels
                    for c in 0..<channels { out[c] += w[c] * xs[c] }
                }
            }
        }
    }
}
