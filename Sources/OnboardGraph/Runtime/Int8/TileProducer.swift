import CKernels
import OnboardCore

/// An integer op whose f32 output only tiled float islands read (`TiledIsland`), computed by each
/// of them a tile at a time with the op's own kernels and epilogue, so a tile holds the values the
/// op would have stored; the whole f32 tensor is then never stored, and the islands read their
/// tiles from cache. The op's codes input must live until the last island runs.
/// - a selective scan's delta (operand 1) or gate z (operand 7) from a Linear (a Vision Mamba's
///   dt_proj, K = dt_rank; in_proj's gate half, read by both directions' scans, each computing it
///   again): the product for the block's weight panels;
/// - a row-wise island's only input from a causal conv1d (Mamba's conv1d before its SiLU): the
///   convolution of the tile's rows.
/// With `"float_island_inputs": "float"`, these f32 tensors (1 MB each in the Vim detector) are the
/// largest terms of its peak.
struct TileProducer: Sendable {
    /// The producer's node index, and its input (u8 codes).
    let node: Int
    let input: ValueID
    /// The island's operand it computes.
    let operand: Int

    /// By island node index, in operand order; none where the recipe's low-bit part applies (its
    /// Linears, and inputs stored as Shift-Log2 codes, need steps of their own).
    static func plan(in graph: Graph, executions: [Int8Executor.Execution], formats: [Int8Executor.Format],
                     lowBit: LowBitLayout) -> [Int: [TileProducer]] {
        let readers = graph.readers
        let outputs = Set(graph.outputs.map(\.index))
        /// Which operand of `island` the integer `producer` makes, when the island can compute it a tile at a time.
        func computedOperand(by island: Int, from producer: Node) -> Int? {
            let node = graph.nodes[island]
            let positions = node.inputs.indices.filter { node.inputs[$0] == producer.output }
            guard executions[island] == .floatIsland, positions.count == 1, let operand = positions.first else { return nil }
            switch TiledIsland.tiling(node, graph) {
            case .scan?:
                guard [1, 7].contains(operand), SelectiveScanOp.channelBlock % Int(ONBOARD_Q8_NR) == 0, case .linear = producer.op,
                      producer.inputs.count == 2 || graph.info(producer.inputs[2]).count == graph.info(producer.output).shape.last
                else { return nil }
                return operand
            case .rows?:
                guard node.inputs.count == 1, case .causalConv1d = producer.op else { return nil }
                return operand
            case nil:
                return nil
            }
        }
        var result: [Int: [TileProducer]] = [:]
        for (index, node) in graph.nodes.enumerated() where executions[index] == .integer {
            let id = node.output
            guard !outputs.contains(id.index), case .f32 = formats[id.index], let input = node.inputs.first,
                  case .q8 = formats[input.index], !lowBit.logValues.contains(input.index), !lowBit.linears.contains(index)
            else { continue }
            let islands = Array(Set(readers[id.index])).sorted()
            let operands = islands.compactMap { computedOperand(by: $0, from: node) }
            guard !islands.isEmpty, operands.count == islands.count else { continue }
            for (island, operand) in zip(islands, operands) {
                result[island, default: []].append(TileProducer(node: index, input: input, operand: operand))
            }
        }
        return result.mapValues { $0.sorted { $0.operand < $1.operand } }
    }

    /// The Linear's output [rows of `sample`, channels `columns`] into `tile` ([length, columns.count] f32).
    static func project(_ linear: Int8Linear, epilogue: UnsafePointer<onboard_q8_epilogue>, input: UnsafePointer<UInt8>,
                        sample: Int, length: Int, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>) {
        let panel = Int(ONBOARD_Q8_NR)
        linear.weights.gemmPanelsInto(m: length, a: input + sample * length * linear.k, lda: linear.k, epilogue: epilogue,
                                      out: UnsafeMutableRawPointer(tile), ldc: columns.count,
                                      panels: columns.lowerBound / panel..<(columns.upperBound + panel - 1) / panel)
    }
}
