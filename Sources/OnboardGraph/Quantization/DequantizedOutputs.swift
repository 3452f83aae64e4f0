/// Graph outputs written in f32 straight from the int32 accumulators (recipe
/// `"graph_outputs": "float"`), shared by the INT8 executor and the diagnosis.
///
/// A detector's raw outputs go to float decoding anyway. Requantizing them first adds a rounding
/// the size of a whole tensor's step to every value: on PETR's box output, whose one u8 scale
/// spans log sizes and velocities, that step moves a box centre by up to 0.2 m. Written in f32,
/// the last Linear's only roundings are its input codes and int8 weights, as in deployments
/// that leave the final layer's output dequantized.
public enum DequantizedOutputs {
    /// Indexes of the values kept in f32: a graph output an integer Linear produces, or a graph
    /// output a concat builds from such Linears (directly or through reshapes), with those
    /// Linears' outputs and the reshapes between; each read only on its way to that output.
    public static func values(in graph: Graph, recipe: QuantizationRecipe) -> Set<Int> {
        graphOutputs(in: graph, recipe: recipe).union(floatIslandInputs(in: graph, recipe: recipe))
            .union(LowBitLayout(graph: graph, recipe: recipe).dynamicFloatSources(in: graph, recipe: recipe))
    }

    /// With `"float_island_inputs": "float"`: the outputs of integer Linears and conv1ds that only
    /// float islands read (not graph outputs). Those islands dequantize their inputs anyway; read
    /// in f32, the u8 rounding between is gone (a Vision Mamba's dt_proj and in_proj gates feeding
    /// the scans, its conv1ds feeding their SiLU, as MambaQuant quantizes only their inputs), and
    /// so is its requantization.
    static func floatIslandInputs(in graph: Graph, recipe: QuantizationRecipe) -> Set<Int> {
        guard recipe.floatIslandInputs == .float else { return [] }
        let readers = graph.readers
        let outputs = Set(graph.outputs.map(\.index))
        var result: Set<Int> = []
        for node in graph.nodes where !outputs.contains(node.output.index) {
            switch node.op {
            case .linear, .causalConv1d: break
            default: continue
            }
            guard Int8Executor.execution(of: node, graph: graph, recipe: recipe) == .integer else { continue }
            let reading = readers[node.output.index]
            guard !reading.isEmpty, reading.allSatisfy({
                [Int8Executor.Execution.floatIsland, .keptFloat].contains(Int8Executor.execution(of: graph.nodes[$0], graph: graph, recipe: recipe))
            }) else { continue }
            result.insert(node.output.index)
        }
        return result
    }

    static func graphOutputs(in graph: Graph, recipe: QuantizationRecipe) -> Set<Int> {
        guard recipe.graphOutputs == .float else { return [] }
        let readers = graph.readers
        let producers = graph.producers
        func integerLinear(_ id: ValueID) -> Bool {
            guard let index = producers[id], case .linear = graph.nodes[index].op else { return false }
            return Int8Executor.execution(of: graph.nodes[index], graph: graph, recipe: recipe) == .integer
        }
        /// The chain from an integer Linear through reshapes to `id`, each value read once; nil if none.
        func chain(to id: ValueID) -> [Int]? {
            if integerLinear(id) { return [id.index] }
            guard let index = producers[id], case .reshape = graph.nodes[index].op,
                  let source = graph.nodes[index].inputs.first, readers[source.index].count == 1 else { return nil }
            return chain(to: source).map { $0 + [id.index] }
        }
        var result: Set<Int> = []
        for output in graph.outputs {
            guard readers[output.index].isEmpty else { continue }
            if integerLinear(output) {
                result.insert(output.index)
                continue
            }
            guard let index = producers[output], case .concat = graph.nodes[index].op,
                  Int8Executor.execution(of: graph.nodes[index], graph: graph, recipe: recipe) == .floatIsland else { continue }
            let chains = graph.nodes[index].inputs.map { readers[$0.index].count == 1 ? chain(to: $0) : nil }
            guard chains.allSatisfy({ $0 != nil }) else { continue }
            result.insert(output.index)
            for values in chains { result.formUnion(values ?? []) }
        }
        return result
    }
}
