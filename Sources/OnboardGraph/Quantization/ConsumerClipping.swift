import OnboardCore
import OnboardQuant

/// Ranges cut to what their readers can tell apart: a tensor read only by saturating unary code
/// tables (ReLU, GELU, SiLU, sigmoid, hard sigmoid) needs no codes where those tables' outputs no
/// longer change. ReLU maps every negative input to one code, GELU and SiLU every input far enough
/// below 0 that the output is within half an output step of it (about -2.7 for the demo backbone's
/// GELUs). So a per-tensor range observed as [-8, 2] in front of a ReLU gives the positive part 48
/// of the 256 codes; cut to [0, 2] it gets all 256, which is what fusing the activation into the
/// producer does in other INT8 runtimes.
///
/// The cut changes no reader's output beyond its own rounding: the producer's requantization
/// saturates at the new bound, and the table maps the bound to the code that the tail mapped to.
/// A ReLU behind a cut range keeps its input's parameters, so its table is the identity. Only
/// asymmetric activations are cut (a symmetric range has its zero in the middle either way), and
/// only under `"consumer_clipping": true` (the default).
public enum ConsumerClipping {
    /// Indexes of the values whose ranges are cut under `recipe`: computed (by an op with
    /// parameters of its own, not a view or permute of another value), not a graph output, read
    /// only by saturating unary ops whose own outputs are stored as codes.
    public static func clippedValues(in graph: Graph, recipe: QuantizationRecipe) -> Set<Int> {
        guard recipe.consumerClipping, !recipe.symmetricActivations else { return [] }
        let outputs = Set(graph.outputs.map(\.index))
        let inherited = Calibrator.inheritedParameters(graph)
        let readers = readerNodes(graph)
        var result: Set<Int> = []
        for (index, info) in graph.values.enumerated()
        where info.role != .constant && info.dtype == .f32 && inherited[index] == nil && !outputs.contains(index) && !readers[index].isEmpty {
            let cuttable = readers[index].allSatisfy { node in
                node.op.quantization.saturates && node.inputs.count == 1 && !outputs.contains(node.output.index) && !recipe.keepsFloat(node)
            }
            if cuttable { result.insert(index) }
        }
        return result
    }

    /// The plan's parameters with every clipped value's range cut to where its readers' tables
    /// still change (each reader judged with its own output parameters).
    static func apply(to activations: inout [String: ActivationQuant], graph: Graph, recipe: QuantizationRecipe) throws {
        let readers = readerNodes(graph)
        for index in clippedValues(in: graph, recipe: recipe).sorted() {
            let name = graph.values[index].name
            guard let current = activations[name] else { continue }
            var lower = Float.infinity, upper = -Float.infinity
            for reader in readers[index] {
                guard let output = activations[graph.info(reader.output).name] else { continue }
                let cut = try changingRange(of: reader, input: current, output: output)
                lower = min(lower, cut.lower)
                upper = max(upper, cut.upper)
            }
            guard lower < upper else { continue }
            let cut = ActivationQuant(QuantParams.affine(min: lower, max: upper, bits: 8, symmetric: false))
            activations[name] = cut
            for reader in readers[index] where reader.op == .relu {
                activations[graph.info(reader.output).name] = cut
            }
        }
    }

    /// The nodes reading each value, by value index.
    private static func readerNodes(_ graph: Graph) -> [[Node]] {
        graph.readers.map { $0.map { graph.nodes[$0] } }
    }

    /// Samples per tensor range when looking for the flat tails.
    static let samples = 4096

    /// The smallest interval of `input`'s representable range outside which `node`'s code table
    /// (`QuantizedElementwise.codesOfUnary`) gives the same output code as at the range's ends.
    static func changingRange(of node: Node, input: ActivationQuant, output: ActivationQuant) throws -> (lower: Float, upper: Float) {
        let (low, high) = input.representableRange
        let x = Tensor(zeros: [samples])
        let step = (high - low) / Float(samples - 1)
        for i in 0..<samples { x.floatPointer[i] = low + Float(i) * step }
        let codes = try QuantizedElementwise.codesOfUnary(node, at: x, output: output)
        var first = 0, last = samples - 1
        while first + 1 < samples, codes[first + 1] == codes[0] { first += 1 }
        while last > first, codes[last - 1] == codes[samples - 1] { last -= 1 }
        return (x.floatPointer[first], x.floatPointer[last])
    }
}
