import CKernels
import OnboardCore

/// Softmax over the last axis, rows spread over threads.
enum SoftmaxOp {
    static func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext) {
        guard let n = inputs[0].shape.last, n > 0 else { return }
        let rows = inputs[0].count / n
        let x = inputs[0].floats, y = output.floats
        Parallel.forRanges(count: rows, threads: context.threads, grain: 16) { range in
            onboard_f32_softmax_rows(x + range.lowerBound * n, y + range.lowerBound * n, range.count, n)
        }
    }
}
