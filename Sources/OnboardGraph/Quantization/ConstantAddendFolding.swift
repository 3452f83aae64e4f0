import OnboardCore

/// `Linear(x + C)` with C a constant of the sum's shape becomes `Linear(x)` with the bias
/// `C · Wᵀ + b` per output element (a PETR decoder's query embedding added to its target before
/// the q and k projections). In INT8 the Linear then reads x's codes and adds the constant part
/// in int32, so the sum is never rounded to 8 bits on its own range. W is the weight as the
/// integer Linear holds it (its int8 codes dequantized), so the fold changes nothing but that
/// rounding, and a saved quantized bundle folds to the same bias. The add disappears when no
/// other op reads it. A sum of constants alone is left to the executor's exact precomputation.
///
/// Under `"fold_constant_addends": true`; the Int8Executor applies it to the graph it is given
/// (the plan, calibrated on the unfolded graph, still holds the sum's parameters: nothing reads them).
public enum ConstantAddendFolding {
    /// The graph with every foldable Linear rewritten; the same graph when the recipe does not ask.
    public static func apply(_ graph: Graph, recipe: QuantizationRecipe) throws -> Graph {
        guard recipe.foldConstantAddends else { return graph }
        let producers = graph.producers
        let outputs = Set(graph.outputs)
        var values = graph.values, nodes = graph.nodes, constants = graph.constants
        let computedFromConstants = staticValues(graph)
        var folded: Set<Int> = []
        for (index, node) in graph.nodes.enumerated() where node.op == .linear && !recipe.keepsFloat(node) {
            guard let sumNode = producers[node.inputs[0]], !outputs.contains(node.inputs[0]),
                  let (x, addend) = foldableSum(graph.nodes[sumNode], graph: graph, recipe: recipe),
                  !computedFromConstants.contains(x),
                  let weight = QuantizedWeight(constant: node.inputs[1], in: graph, recipe: recipe)?.dequantized() else { continue }
            let bias = node.inputs.count == 3 ? graph.floatConstant(node.inputs[2]) : nil
            let outputShape = graph.info(node.output).shape
            let product = try addendProduct(addend, weight: weight, bias: bias, shape: outputShape)
            let biasID = ValueID(index: values.count)
            values.append(ValueInfo(name: "\(node.name).folded_bias", shape: outputShape, dtype: .f32, role: .constant))
            constants[biasID] = product
            nodes[index] = Node(name: node.name, op: .linear, inputs: [x, node.inputs[1], biasID], output: node.output)
            folded.insert(sumNode)
        }
        guard !folded.isEmpty else { return graph }
        // A sum still read (by an op that is not a folded Linear) keeps its node.
        var stillRead: Set<ValueID> = outputs
        for node in nodes { stillRead.formUnion(node.inputs) }
        let dropped = folded.filter { !stillRead.contains(graph.nodes[$0].output) }
        let kept = nodes.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
        return Graph(values: values, nodes: kept, inputs: graph.inputs, outputs: graph.outputs,
                     constants: constants, weightScales: graph.weightScales)
    }

    /// Constants and the values computed from constants alone.
    private static func staticValues(_ graph: Graph) -> Set<ValueID> {
        var result = Set(graph.constants.keys)
        for node in graph.nodes where !node.inputs.isEmpty && node.inputs.allSatisfy(result.contains) {
            result.insert(node.output)
        }
        return result
    }

    /// (x, C) for an add of a computed f32 value x and a float constant C of the sum's shape.
    private static func foldableSum(_ sum: Node, graph: Graph, recipe: QuantizationRecipe) -> (ValueID, Tensor)? {
        guard sum.op == .add, sum.inputs.count == 2, !recipe.keepsFloat(sum) else { return nil }
        let shape = graph.info(sum.output).shape
        for operand in 0..<2 {
            let x = sum.inputs[operand]
            guard graph.info(x).dtype == .f32, graph.info(x).shape == shape,
                  let addend = graph.floatConstant(sum.inputs[1 - operand]), addend.shape == shape else { continue }
            return (x, addend)
        }
        return nil
    }

    /// `C · Wᵀ + b` as [rows of C, N] in the Linear's output shape, accumulated in double.
    private static func addendProduct(_ addend: Tensor, weight: Tensor, bias: Tensor?, shape: [Int]) throws -> Tensor {
        let n = weight.shape[0], k = weight.shape[1]
        let rows = k == 0 ? 0 : addend.count / k
        let c = addend.floats(), w = weight.floats(), b = bias?.floats()
        var out = [Float](repeating: 0, count: rows * n)
        for i in 0..<rows {
            for j in 0..<n {
                var sum = Double(b?[j] ?? 0)
                for t in 0..<k { sum += Double(c[i * k + t]) * Double(w[j * k + t]) }
                out[i * n + j] = Float(sum)
            }
        }
        return try Tensor(shape: shape, values: out)
    }
}
