import CKernels
import OnboardCore

/// Mamba's selective scan (`selective_scan_ref` with `delta_softplus`) on token-major tensors:
/// inputs u [B, L, E], delta [B, L, E] (before its bias), A [E, N] (= -exp(A_log)),
/// B [B, L, N], C [B, L, N], D [E], delta bias [E] and, optionally, the gate z [B, L, E] and
/// with it the per-channel scale s [E] of MambaQuant's scaled SiLU. For each channel d, with
/// h = 0 and t running forward (`reverse`: from the end):
///   δ = softplus(delta[t, d] + bias[d]);  h[n] = exp(δ·A[d, n])·h[n] + δ·B[t, n]·u[t, d]
///   y[t, d] = (Σ_n h[n]·C[t, n] + D[d]·u[t, d]) · z[t, d]·sigmoid(s[d]·z[t, d])    (s = 1: SiLU)
/// The reverse scan of a sequence is the forward scan of its flip, flipped back (Vim's backward
/// branch). Channels are independent: blocks of `channelBlock` go to the threads, the same
/// blocks whatever the thread count, so the result does not depend on it; 32 channels are whole
/// vectors for every kernel of the f32_scan list (16 lanes on AVX2 and NEON, 32 on AVX-512).
struct SelectiveScanOp: OpDefinition {
    static let channelBlock = 32

    let reverse: Bool

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(7...9)
        try check.float(0..<check.inputs.count)
        let shapes = check.shapes
        guard shapes[0].count == 3 else { throw check.fail("u must be [batch, length, channels], got \(shapes[0])") }
        let (batch, length, channels) = (shapes[0][0], shapes[0][1], shapes[0][2])
        guard shapes[2].count == 2, shapes[2][0] == channels, shapes[2][1] >= 1 else {
            throw check.fail("A must be [\(channels), state], got \(shapes[2])")
        }
        let state = shapes[2][1]
        let expected: [(Int, String, [Int])] = [
            (1, "delta", shapes[0]), (3, "B", [batch, length, state]), (4, "C", [batch, length, state]),
            (5, "D", [channels]), (6, "delta bias", [channels]),
        ] + (shapes.count >= 8 ? [(7, "z", shapes[0])] : []) + (shapes.count == 9 ? [(8, "gate scale", [channels])] : [])
        for (index, name, shape) in expected where shapes[index] != shape {
            throw check.fail("\(name) must be \(shape), got \(shapes[index])")
        }
        return (shapes[0], .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    var quantization: QuantizationTraits { .floatIsland }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        let (batch, length, channels) = (inputs[0].shape[0], inputs[0].shape[1], inputs[0].shape[2])
        let state = inputs[2].shape[1]
        let u = inputs[0].floats, delta = inputs[1].floats, a = inputs[2].floats
        let b = inputs[3].floats, c = inputs[4].floats, d = inputs[5].floats, deltaBias = inputs[6].floats
        let z = inputs.count >= 8 ? inputs[7].floats : nil
        let gateScale = inputs.count == 9 ? inputs[8].floats : nil
        let y = output.floats
        let blocks = (channels + Self.channelBlock - 1) / Self.channelBlock
        let reverse: Int32 = reverse ? 1 : 0
        Parallel.forRanges(count: batch * blocks, threads: context.threads) { range in
            for item in range {
                let sample = item / blocks, block = item % blocks
                let begin = block * Self.channelBlock, end = min(begin + Self.channelBlock, channels)
                let tokens = sample * length * channels, states = sample * length * state
                onboard_f32_selective_scan(
                    length, state, begin, end, reverse,
                    u + tokens, channels, delta + tokens, channels, deltaBias,
                    a, b + states, c + states, state, d,
                    z.map { $0 + tokens }, channels, gateScale.map { UnsafePointer($0) }, y + tokens, channels)
            }
        }
    }
}
