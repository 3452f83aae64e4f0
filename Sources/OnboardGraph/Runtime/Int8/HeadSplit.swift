/// An integer Linear whose codes only go through a reshape and a permute that split them into
/// attention heads ([rows, N] -> [..., T, D] with D kept last), and for a fused q/k/v projection
/// on to unit slices of the permuted tensor's first axis. The Linear then writes each head's
/// [T, D] block straight where the permute (or the slice) would have put it: the reshape, the
/// permute and the slices do not run, and the Linear's own output is never stored.
struct HeadSplit {
    /// One [T, D] block of the product: rows `firstRow ..< firstRow + T`, columns of group `group`
    /// (D wide), written at element `offset` of value `destination` with row stride D.
    struct Block {
        let firstRow: Int
        let group: Int
        let destination: ValueID
        let offset: Int
    }

    /// Nodes that no longer run (the reshape, the permute, the slices).
    let skippedNodes: [Int]
    /// Values never written: the Linear's output, its reshape, and the permute's output when slices read it.
    let unstoredValues: [Int]
    /// Values the Linear writes (the permute's output, or the slices' outputs).
    let destinations: [ValueID]
    let rows: Int
    let width: Int
    let blocks: [Block]

    /// The head split after Linear node `index`, if its output is used only that way.
    static func find(in graph: Graph, linear index: Int, readers: [[Int]]) -> HeadSplit? {
        let outputs = Set(graph.outputs.map(\.index))
        let product = graph.nodes[index].output
        let shape = graph.info(product).shape
        guard let n = shape.last, n > 0, readers[product.index].count == 1, !outputs.contains(product.index) else { return nil }
        let reshapeIndex = readers[product.index][0]
        guard case let .reshape(split) = graph.nodes[reshapeIndex].op else { return nil }
        let splitValue = graph.nodes[reshapeIndex].output
        guard readers[splitValue.index].count == 1, !outputs.contains(splitValue.index) else { return nil }
        let permuteIndex = readers[splitValue.index][0]
        guard case let .permute(order) = graph.nodes[permuteIndex].op else { return nil }
        let rank = split.count
        // Axes split[c0...] are the Linear's columns, split[..<c0] its rows.
        guard rank >= 3, order.count == rank,
              let c0 = (1..<rank).reversed().first(where: { split[$0...].reduce(1, *) == n }),
              order[rank - 1] == rank - 1, order[rank - 2] == c0 - 1 else { return nil }
        let width = split[rank - 1], rowsPerBlock = split[c0 - 1]
        guard width % 16 == 0 else { return nil }
        let permuted = graph.nodes[permuteIndex].output
        let outShape = graph.info(permuted).shape
        var outStride = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { outStride[axis] = outStride[axis + 1] * outShape[axis + 1] }
        var strideOfInputAxis = [Int](repeating: 0, count: rank)
        for (outAxis, inAxis) in order.enumerated() { strideOfInputAxis[inAxis] = outStride[outAxis] }

        // Slices of the permuted tensor's first axis, one element each: their outputs are the destinations.
        var sliceOf: [Int: (node: Int, value: ValueID)] = [:]
        let permutedReaders = readers[permuted.index]
        let sliced = !permutedReaders.isEmpty && !outputs.contains(permuted.index) && permutedReaders.allSatisfy { reader in
            guard case let .slice(axis, start, end, step) = graph.nodes[reader].op, axis == 0, end == start + 1, step == 1,
                  sliceOf[start] == nil else { return false }
            sliceOf[start] = (reader, graph.nodes[reader].output)
            return true
        }
        if !sliced { sliceOf = [:] }

        let outerAxes = Array(0..<(c0 - 1)), groupAxes = Array(c0..<(rank - 1))
        func offsets(_ axes: [Int]) -> [Int] {
            var result = [0]
            for axis in axes {
                result = result.flatMap { base in (0..<split[axis]).map { base + $0 * strideOfInputAxis[axis] } }
            }
            return result
        }
        var blocks: [Block] = []
        for (outer, outerOffset) in offsets(outerAxes).enumerated() {
            for (group, groupOffset) in offsets(groupAxes).enumerated() {
                let offset = outerOffset + groupOffset
                if sliced {
                    guard let slice = sliceOf[offset / outStride[0]] else { continue }
                    blocks.append(Block(firstRow: outer * rowsPerBlock, group: group, destination: slice.value, offset: offset % outStride[0]))
                } else {
                    blocks.append(Block(firstRow: outer * rowsPerBlock, group: group, destination: permuted, offset: offset))
                }
            }
        }
        let slices = sliceOf.values.sorted { $0.node < $1.node }
        return HeadSplit(
            skippedNodes: [reshapeIndex, permuteIndex] + slices.map(\.node),
            unstoredValues: [product.index, splitValue.index] + (sliced ? [permuted.index] : []),
            destinations: sliced ? slices.map(\.value) : [permuted],
            rows: rowsPerBlock, width: width, blocks: blocks)
    }
}
