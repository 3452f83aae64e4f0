import CKernels
import OnboardCore

/// Element-wise activations (gelu, relu, sigmoid, silu, scale), chunks spread over threads.
enum ActivationOp {
    static func run(_ op: Op, _ inputs: [Operand], _ output: Operand, _ context: KernelContext) {
        let x = inputs[0].floats, y = output.floats
        Parallel.forRanges(count: output.count, threads: context.threads, grain: 4096) { range in
            let xs = x + range.lowerBound, ys = y + range.lowerBound, n = range.count
            switch op {
            case .gelu(approximate: false): onboard_f32_gelu_erf(xs, ys, n)
            case .gelu(approximate: true): onboard_f32_gelu_tanh(xs, ys, n)
            case .sigmoid: onboard_f32_sigmoid(xs, ys, n)
            case .silu: onboard_f32_silu(xs, ys, n)
            case .relu: for i in 0..<n { ys[i] = max(xs[i], 0) }
            case let .scale(factor): for i in 0..<n { ys[i] = xs[i] * factor }
            default: preconditionFailure("\(op.kind) is not an activation")
            }
        }
    }
}
