import OnboardCore

/// Softmax with its normalization deferred past the attention product (recipe
/// `"softmax_output": "deferred"`), shared by the calibrator, the INT8 executor and the diagnosis.
///
/// Probabilities of long rows are mostly tiny: one per-tensor u8 step that must also hold a sharp
/// row's 0.7 rounds a diffuse row's 0.001s to 0, and a 960-key cross-attention row loses most of
/// its mass. Stored instead as each row's `e^(x - max)` (in (0, 1], the max exactly 1) at the fixed
/// step 1/255, every row uses the whole code range while the tensor keeps one scale and zero point.
/// The integer matmul that reads it (attention's AV) divides each row's int32 accumulators by the
/// row's code sum, an exact integer, before requantizing: the softmax division moved after the
/// product, as FlashAttention does. The probabilities it uses are the codes over their row sum.
public enum SoftmaxNormalization {
    /// Parameters of every deferred tensor: codes 0...255 for e^(x - max) in [0, 1].
    public static let parameters = ActivationQuant(scale: 1 / 255, zeroPoint: 0, qmin: 0, qmax: 255)

    /// Indexes of the softmax outputs stored unnormalized under `recipe` (empty for `"normalized"`):
    /// integer softmaxes read only as the first operand of integer matmuls, and no graph output.
    public static func deferredValues(in graph: Graph, recipe: QuantizationRecipe) -> Set<Int> {
        guard recipe.softmaxOutput == .deferred else { return [] }
        let stabilized = SoftmaxStabilization.stabilizedValues(in: graph, recipe: recipe)
        var readers: [Int: [Node]] = [:]
        for node in graph.nodes { for input in node.inputs { readers[input.index, default: []].append(node) } }
        let outputs = Set(graph.outputs.map(\.index))
        var result: Set<Int> = []
        for node in graph.nodes where node.op == .softmax {
            let probabilities = node.output
            guard !outputs.contains(probabilities.index),
                  Int8Executor.execution(of: node, graph: graph, recipe: recipe) == .integer,
                  let matmuls = readers[probabilities.index], !matmuls.isEmpty else { continue }
            let dividesRows = matmuls.allSatisfy { reader in
                guard case .matmul = reader.op else { return false }
                return reader.inputs[0] == probabilities && reader.inputs[1] != probabilities
                    && !stabilized.contains(reader.output.index)
                    && Int8Executor.execution(of: reader, graph: graph, recipe: recipe) == .integer
            }
            if dividesRows { result.insert(probabilities.index) }
        }
        return result
    }

    /// Divides each row (of `width` along the last axis) by its sum; a row summing to 0 stays 0.
    public static func normalizeRows(_ values: UnsafeMutableBufferPointer<Float>, width: Int) {
        guard width > 0, let base = values.baseAddress else { return }
        for start in stride(from: 0, to: values.count - width + 1, by: width) {
            let row = base + start
            var sum: Float = 0
            for j in 0..<width { sum += row[j] }
            guard sum > 0 else { continue }
            for j in 0..<width { row[j] /= sum }
        }
    }

    /// Probabilities as the executor represents them: per row, codes `round(255 p / max p)`, then
    /// the codes over their sum. (A softmax row of non-negative values with a positive max.)
    public static func fakeQuantize(_ values: UnsafeMutableBufferPointer<Float>, width: Int) {
        guard width > 0, let base = values.baseAddress else { return }
        for start in stride(from: 0, to: values.count - width + 1, by: width) {
            let row = base + start
            var top: Float = 0
            for j in 0..<width { top = max(top, row[j]) }
            guard top > 0 else { continue }
            for j in 0..<width { row[j] = min(max((255 * row[j] / top).rounded(.toNearestOrEven), 0), 255) }
        }
        normalizeRows(values, width: width)
    }
}
