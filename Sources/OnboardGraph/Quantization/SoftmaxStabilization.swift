import OnboardCore
import OnboardQuant

/// Q-PETR's QANS (quantization after numerical stabilization), shared by the calibrator, the INT8
/// executor and the diagnosis so all three see the same tensor.
///
/// Softmax is invariant to a per-row shift, so the logits feeding it may be stored as
/// `x - max(x)` per row (all <= 0, each row's max exactly 0). Under `"softmax_input": "stabilized"`
/// every softmax whose input comes from an integer matmul (and is read by nothing else, and is no
/// graph output) gets that stabilized tensor: the matmul's epilogue subtracts each row's max from
/// its int32 accumulators before requantizing, calibration observes the stabilized values, and the
/// plan's parameters for the tensor cover `[lower, 0]` with the zero point at the top code (255), so
/// 0 is exact. Large or head-dependent logit offsets then no longer widen the per-tensor range; the
/// graph IR is unchanged, only the meaning of that one tensor's codes.
public enum SoftmaxStabilization {
    /// Indexes of the values stored stabilized under `recipe` (empty for `"plain"`).
    public static func stabilizedValues(in graph: Graph, recipe: QuantizationRecipe) -> Set<Int> {
        guard recipe.softmaxInput == .stabilized else { return [] }
        let readers = graph.readers
        let outputs = Set(graph.outputs.map(\.index))
        let producers = graph.producers
        var result: Set<Int> = []
        for node in graph.nodes where node.op == .softmax {
            let logits = node.inputs[0]
            guard readers[logits.index].count == 1, !outputs.contains(logits.index), let producer = producers[logits] else { continue }
            let matmul = graph.nodes[producer]
            guard case .matmul = matmul.op,
                  Int8Executor.execution(of: matmul, graph: graph, recipe: recipe) == .integer else { continue }
            result.insert(logits.index)
        }
        return result
    }

    /// Subtracts each row's max (rows of `width` along the last axis) in place.
    public static func subtractRowMax(_ values: UnsafeMutableBufferPointer<Float>, width: Int) {
        guard width > 0, let base = values.baseAddress else { return }
        for start in stride(from: 0, to: values.count - width + 1, by: width) {
            let row = base + start
            var top = -Float.infinity
            for j in 0..<width { top = max(top, row[j]) }
            for j in 0..<width { row[j] -= top }
        }
    }

    /// A stabilized copy of `values` (rows of `width`), raised to `-clip` when given.
    public static func stabilized(_ values: UnsafeBufferPointer<Float>, width: Int, clip: Double? = nil) -> [Float] {
        var copy = Array(values)
        copy.withUnsafeMutableBufferPointer { subtractRowMax($0, width: width) }
        if let clip, clip.isFinite, clip > 0 {
            let bound = -Float(clip)
            for i in copy.indices { copy[i] = max(copy[i], bound) }
        }
        return copy
    }

    /// u8 parameters for a stabilized tensor whose calibrated lower end is `lower` (<= 0), clipped
    /// at `-clip` when given: scale `-lower / 255`, zero point 255, so codes 0...255 cover [lower, 0].
    public static func parameters(lower: Float, clip: Double?) -> ActivationQuant {
        var bound = min(lower.isFinite ? lower : -Float.greatestFiniteMagnitude, 0)
        if let clip, clip.isFinite, clip > 0 { bound = max(bound, -Float(clip)) }
        let params = QuantParams.affine(min: bound, max: 0, bits: 8, symmetric: false)
        return ActivationQuant(scale: params.scale, zeroPoint: 255, qmin: 0, qmax: 255)
    }
}
