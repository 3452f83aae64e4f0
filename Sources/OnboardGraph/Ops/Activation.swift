import CKernels
import Foundation
import OnboardCore

/// Element-wise activations (gelu, relu, sigmoid, silu, erf, clip, scale), chunks spread over threads.
struct ActivationOp: OpDefinition {
    enum Kind {
        case gelu(approximate: Bool), relu, sigmoid, silu, erf, clip(Float, Float), scale(Float)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) { try check.unaryElementwise() }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    /// Every activation but `scale` is flat far enough below 0 or above it.
    var quantization: QuantizationTraits {
        let saturates: Bool
        switch kind {
        case .gelu, .relu, .sigmoid, .silu, .erf, .clip: saturates = true
        case .scale: saturates = false
        }
        return QuantizationTraits(form: .floatIsland, islandOnCodes: .unaryTable(saturates: saturates))
    }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        let x = inputs[0].floats, y = output.floats
        let kind = kind
        Parallel.forRanges(count: output.count, threads: context.threads, grain: 4096) { range in
            let xs = x + range.lowerBound, ys = y + range.lowerBound, n = range.count
            switch kind {
            case .gelu(approximate: false): onboard_f32_gelu_erf(xs, ys, n)
            case .gelu(approximate: true): onboard_f32_gelu_tanh(xs, ys, n)
            case .sigmoid: onboard_f32_sigmoid(xs, ys, n)
            case .silu: onboard_f32_silu(xs, ys, n)
            case .relu: for i in 0..<n { ys[i] = max(xs[i], 0) }
            case .erf: for i in 0..<n { ys[i] = Foundation.erf(xs[i]) }
            case let .clip(low, high): for i in 0..<n { ys[i] = xs[i].isNaN ? xs[i] : min(max(xs[i], low), high) }
            case let .scale(factor): for i in 0..<n { ys[i] = xs[i] * factor }
            }
        }
    }
}
