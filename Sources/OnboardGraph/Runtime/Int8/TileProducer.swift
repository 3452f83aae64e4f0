import CKernels
import OnboardCore

/// An integer op whose f32 output only one tiled float island reads (`TiledIsland`), computed by
/// that island a tile at a time with the op's own kernels and epilogue, so the tile holds the
/// values the op would have stored; the whole f32 tensor is then never stored, and the island
/// reads its tile from cache. The op's codes input must live until the island runs.
/// - a selective scan's delta (operand 1) from its Linear (a Vision Mamba's dt_proj, K = dt_rank):
///   the product for the block's weight panels;
/// - a row-wise island's only input from a causal conv1d (Mamba's conv1d before its SiLU): the
///   convolution of the tile's rows.
/// With `"float_island_inputs": "float"`, these f32 tensors (1 MB each in the Vim detector) are the
/// largest terms of its peak after the gate z.
struct TileProducer: Sendable {
    /// The producer's node index, and its input (u8 codes).
    let node: Int
    let input: ValueID

    /// By island node index; none where the recipe's low-bit part applies (its Linears, and inputs
    /// stored as Shift-Log2 codes, need steps of their own).
    static func plan(in graph: Graph, executions: [Int8Executor.Execution], formats: [Int8Executor.Format],
                     lowBit: LowBitLayout) -> [Int: TileProducer] {
        let readers = graph.readers, producers = graph.producers
        let outputs = Set(graph.outputs.map(\.index))
        /// The integer node making `id` in f32 for `island` alone, from codes.
        func producer(of id: ValueID, for island: Int) -> (Int, Node)? {
            guard let index = producers[id], executions[index] == .integer, readers[id.index] == [island],
                  !outputs.contains(id.index), case .f32 = formats[id.index] else { return nil }
            let node = graph.nodes[index]
            guard case .q8 = formats[node.inputs[0].index], !lowBit.logValues.contains(node.inputs[0].index),
                  !lowBit.linears.contains(index) else { return nil }
            return (index, node)
        }
        var result: [Int: TileProducer] = [:]
        for (index, node) in graph.nodes.enumerated() where executions[index] == .floatIsland {
            switch TiledIsland.tiling(node, graph) {
            case .scan?:
                guard SelectiveScanOp.channelBlock % Int(ONBOARD_Q8_NR) == 0, let (linear, projection) = producer(of: node.inputs[1], for: index),
                      case .linear = projection.op,
                      projection.inputs.count == 2 || graph.info(projection.inputs[2]).count == graph.info(node.inputs[1]).shape.last
                else { continue }
                result[index] = TileProducer(node: linear, input: projection.inputs[0])
            case .rows?:
                guard node.inputs.count == 1, let (conv, convolution) = producer(of: node.inputs[0], for: index),
                      case .causalConv1d = convolution.op else { continue }
                result[index] = TileProducer(node: conv, input: convolution.inputs[0])
            case nil:
                continue
            }
        }
        return result
    }

    /// delta[rows of `sample`, channels `columns`] into `tile` ([length, columns.count] f32).
    static func projectDelta(_ linear: Int8Linear, epilogue: UnsafePointer<onboard_q8_epilogue>, input: UnsafePointer<UInt8>,
                             sample: Int, length: Int, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>) {
        let panel = Int(ONBOARD_Q8_NR)
        linear.weights.gemmPanelsInto(m: length, a: input + sample * length * linear.k, lda: linear.k, epilogue: epilogue,
                                      out: UnsafeMutableRawPointer(tile), ldc: columns.count,
                                      panels: columns.lowerBound / panel..<(columns.upperBound + panel - 1) / panel)
    }
}
