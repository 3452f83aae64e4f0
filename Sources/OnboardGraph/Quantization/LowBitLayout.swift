import OnboardCore

/// Where a recipe's `low_bit` part applies in a graph: the in-scope Linears, the activation
/// values quantized at its `activation_bits`, and the values its ADFQ-ViT quantizers take over.
/// Empty for a recipe without `low_bit`.
struct LowBitLayout {
    /// Node indices of the Linears whose weights take the low-bit settings.
    var linears: Set<Int> = []
    /// Value index -> activation bits, for the values (or the sources their codes move from) that
    /// in-scope Linears read and nothing else does.
    var activationBits: [Int: Int] = [:]
    /// Linear inputs written by a LayerNorm and quantized per token position with outliers kept
    /// (`"post_layernorm": "per_patch"`); their LayerNorms run in float.
    var perPatchValues: Set<Int> = []
    /// Linear inputs written by a GELU and stored as Shift-Log2 codes (`"post_gelu": "shift_log2"`).
    var logValues: Set<Int> = []

    init(graph: Graph, recipe: QuantizationRecipe) {
        guard let lowBit = recipe.lowBit else { return }
        let readers = graph.readers, producers = graph.producers
        for (index, node) in graph.nodes.enumerated() where node.op == .linear && lowBit.covers(node.name)
            && node.inputs.count >= 2 && graph.constants[node.inputs[1]] != nil && !recipe.keepsFloat(node) {
            linears.insert(index)
        }
        func readOnlyByLowBitLinears(_ value: Int) -> Bool {
            !readers[value].isEmpty && readers[value].allSatisfy { reader in
                let node = graph.nodes[reader]
                if linears.contains(reader) { return node.inputs[0].index == value }
                return node.op.quantization.movesCodesOnly && readOnlyByLowBitLinears(node.output.index)
            }
        }
        for index in linears {
            var source = graph.nodes[index].inputs[0].index
            while let producer = producers[ValueID(index: source)], graph.nodes[producer].op.quantization.movesCodesOnly,
                  graph.constants[graph.nodes[producer].inputs[0]] == nil {
                source = graph.nodes[producer].inputs[0].index
            }
            guard graph.values[source].role != .constant, readOnlyByLowBitLinears(source) else { continue }
            activationBits[source] = lowBit.activationBits
            guard let producer = producers[ValueID(index: source)] else { continue }
            switch graph.nodes[producer].op {
            case .layerNorm where lowBit.postLayerNorm == .perPatch && graph.values[source].shape.count >= 2:
                perPatchValues.insert(source)
            case .gelu where lowBit.postGELU == .shiftLog2:
                logValues.insert(source)
            default:
                break
            }
        }
    }

    /// Under `"dynamic_per_token"`: the values a float op writes (through views) for in-scope
    /// Linears, kept in f32 so those Linears quantize each row from its real values. Linears whose
    /// input an integer op writes read its codes dequantized.
    func dynamicFloatSources(in graph: Graph, recipe: QuantizationRecipe) -> Set<Int> {
        guard recipe.lowBit?.dynamicPerToken == true else { return [] }
        let producers = graph.producers
        var result: Set<Int> = []
        for index in linears {
            var source = graph.nodes[index].inputs[0]
            while let producer = producers[source], graph.nodes[producer].op.quantization.isView { source = graph.nodes[producer].inputs[0] }
            guard let producer = producers[source],
                  Int8Executor.execution(of: graph.nodes[producer], graph: graph, recipe: recipe) == .floatIsland else { continue }
            result.insert(source.index)
        }
        return result
    }

    /// The LayerNorms that write a per-patch value: they run in float so the Linear sees real values.
    func floatNorms(in graph: Graph) -> Set<Int> {
        let producers = graph.producers
        return Set(perPatchValues.compactMap { producers[ValueID(index: $0)] })
    }
}
