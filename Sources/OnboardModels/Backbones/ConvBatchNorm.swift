import Foundation
import OnboardCore
import OnboardGraph

/// A bias-free convolution followed by a frozen (eval-mode) `BatchNorm2d`, folded into one
/// convolution when the graph is built, the way torch evaluates batch norm:
/// `a = gamma / sqrt(var + eps)`, `W' = W * a` (per output channel), `b' = beta - mean * a`.
///
/// The folded weight keeps the checkpoint's conv weight name, so a quantized bundle stores it
/// (as int8 codes + scales) under that name; such a weight is taken as already folded, and
/// only the bias is derived from the batch norm again.
extension ModuleBuilder {
    func convBatchNorm(
        conv: String, norm: String, _ x: ValueID, out: Int, kernel: Int, params: Conv2dParams, epsilon: Float, name: String? = nil
    ) throws -> ValueID {
        let inChannels = graph.shape(x)[1] / params.groups
        let (weight, bias) = try foldedBatchNorm(conv: conv, norm: norm, weightShape: [out, inChannels, kernel, kernel], epsilon: epsilon)
        return try graph.node(.conv2d(params), [x, weight, bias], name: name ?? conv)
    }

    /// The conv weight `<conv>.weight` [O, ...] with `norm` folded in, and the folded bias.
    func foldedBatchNorm(conv: String, norm: String, weightShape: [Int], epsilon: Float) throws -> (weight: ValueID, bias: ValueID) {
        let out = weightShape[0]
        let weightName = "\(conv).weight"
        let weight = try weights.take(weightName, shape: weightShape)
        let gamma = try weights.take("\(norm).weight", shape: [out]).floats()
        let beta = try weights.take("\(norm).bias", shape: [out]).floats()
        let mean = try weights.take("\(norm).running_mean", shape: [out]).floats()
        let variance = try weights.take("\(norm).running_var", shape: [out]).floats()
        weights.discard("\(norm).num_batches_tracked")
        var factors = [Float](repeating: 0, count: out), bias = [Float](repeating: 0, count: out)
        for o in 0..<out {
            let invstd = 1 / (Double(variance[o]) + Double(epsilon)).squareRoot()
            let factor = Double(gamma[o]) * invstd
            factors[o] = Float(factor)
            bias[o] = Float(Double(beta[o]) - Double(mean[o]) * factor)
        }
        let weightID: ValueID
        if weight.dtype == .i8 {
            weightID = try graph.constant(weightName, weight, scales: weights.scales[weightName])
        } else {
            let folded = Tensor(zeros: weight.shape)
            let per = weight.count / max(out, 1)
            let source = weight.floatPointer, target = folded.floatPointer
            for o in 0..<out {
                let factor = factors[o]
                for i in 0..<per { target[o * per + i] = source[o * per + i] * factor }
            }
            weightID = try graph.constant(weightName, folded)
        }
        return (weightID, try graph.constant("\(conv).folded_bias", try Tensor(shape: [out], values: bias)))
    }

    /// `node(.relu)` named `name`.
    func relu(_ x: ValueID, name: String) throws -> ValueID {
        try graph.node(.relu, [x], name: name)
    }
}
