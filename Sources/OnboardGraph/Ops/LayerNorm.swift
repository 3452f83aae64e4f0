import CKernels
import OnboardCore

/// Normalization over the last axis (biased variance), rows spread over threads.
enum LayerNormOp {
    static func run(_ inputs: [Operand], _ output: Operand, epsilon: Float, _ context: KernelContext) {
        guard let n = inputs[0].shape.last, n > 0 else { return }
        let rows = inputs[0].count / n
        let x = inputs[0].floats, y = output.floats, gamma = inputs[1].floats, beta = inputs[2].floats
        Parallel.forRanges(count: rows, threads: context.threads, grain: 16) { range in
            onboard_f32_layernorm_rows(x + range.lowerBound * n, y + range.lowerBound * n, range.count, n, gamma, beta, epsilon)
        }
    }
}
