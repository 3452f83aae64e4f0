import OnboardCore

/// Where each node's part of the INT8 executor's scratch buffer goes, and how much it needs.
///
/// An integer op's part starts with room to quantize the operands that it reads as codes but the
/// graph stores in f32 (slot 0 for its first input, slot 1 for its second; an operand stored as
/// codes, or a weight, gets no room), then the kernel's work area. A float island gets room for
/// its operands in f32 unless it runs straight on codes: a code table or an add of two code
/// tensors needs nothing, a row normalization on codes only its row blocks, an island that splits
/// into tiles a few tiles per thread (`TiledIsland`).
struct ScratchLayout {
    /// Slot sizes of the integer ops, by output value index.
    private let slots: [Int: (Int, Int)]
    /// Each node's part (by node index), islands computed on codes.
    let nodeBytes: [Int]
    /// The largest part of any node.
    var byteCount: Int { nodeBytes.max() ?? 0 }
    /// The same with every float island computed in float on whole tensors (`Int8Executor.codePathsEnabled` false).
    let plainIslandByteCount: Int

    /// `lowBitWork`: extra work bytes of node `index` for the recipe's low-bit part (`LowBitLayout.workBytes`).
    /// `producedTiles`: by island node index, how many operands' tiles it computes (`TileProducer`);
    /// such islands run tiled even with the code paths off.
    init(graph: Graph, executions: [Int8Executor.Execution], formats: [Int8Executor.Format], threads: Int,
         stabilized: Set<ValueID>, deferred: Set<ValueID>, producedTiles: [Int: Int] = [:], lowBitWork: (Int) -> Int) {
        var slots: [Int: (Int, Int)] = [:]
        var nodeBytes = [Int](repeating: 0, count: graph.nodes.count), plainIslandByteCount = 0
        for (index, node) in graph.nodes.enumerated() {
            let execution = executions[index]
            switch execution {
            case .view, .precomputed:
                continue
            case .movement:
                nodeBytes[index] = FP32Kernels.scratchBytes(node, graph, threads: threads)
            case .integer:
                let sizes = (Self.slotBytes(0, node, graph, formats), Self.slotBytes(1, node, graph, formats))
                slots[node.output.index] = sizes
                let kernel = Int8Executor.integerKernel(of: node)
                let bytes = sizes.0 + sizes.1
                    + kernel.workBytes(node, graph: graph, threads: threads, stabilized: stabilized.contains(node.output),
                                       normalizesRows: node.inputs.first.map(deferred.contains) ?? false)
                    + lowBitWork(index)
                nodeBytes[index] = bytes
                plainIslandByteCount = max(plainIslandByteCount, bytes)
            case .floatIsland, .keptFloat:
                let storedAsCodes = { Self.storedAsCodes($0, formats) }
                if let produced = producedTiles[index] {
                    let bytes = TiledIsland.scratchBytes(node, graph: graph, threads: threads, producedTiles: produced,
                                                         storedAsCodes: storedAsCodes) ?? 0
                    nodeBytes[index] = bytes
                    plainIslandByteCount = max(plainIslandByteCount, bytes)
                    continue
                }
                let plain = FloatIsland.scratchBytes(node, graph: graph, threads: threads, tiled: false, storedAsCodes: storedAsCodes)
                let onCodes = execution == .floatIsland ? Self.bytesOnCodes(node, graph, formats, threads: threads) : nil
                nodeBytes[index] = onCodes
                    ?? FloatIsland.scratchBytes(node, graph: graph, threads: threads, tiled: true, storedAsCodes: storedAsCodes)
                plainIslandByteCount = max(plainIslandByteCount, plain)
            }
        }
        self.slots = slots
        self.nodeBytes = nodeBytes
        self.plainIslandByteCount = plainIslandByteCount
    }

    /// Offset of slot 0 or 1 of integer op `node` (where an f32 operand is quantized).
    func slotOffset(_ slot: Int, node: Node) -> Int {
        guard slot > 0, let sizes = slots[node.output.index] else { return 0 }
        return slot == 1 ? sizes.0 : sizes.0 + sizes.1
    }

    /// Offset of the work area of integer op `node`.
    func workOffset(_ node: Node) -> Int { slotOffset(2, node: node) }

    private static func slotBytes(_ slot: Int, _ node: Node, _ graph: Graph, _ formats: [Int8Executor.Format]) -> Int {
        guard slot < node.inputs.count else { return 0 }
        let id = node.inputs[slot]
        guard graph.constants[id] == nil, case .f32 = formats[id.index] else { return 0 }
        return MemoryPlanner.align(graph.info(id).count)
    }

    /// Scratch of a float island that `Int8Executor.executeOnCodes` computes on codes; nil when it
    /// runs in float. The conditions are the ones under which the executor prepares its code path.
    private static func bytesOnCodes(_ node: Node, _ graph: Graph, _ formats: [Int8Executor.Format], threads: Int) -> Int? {
        let storedAsCodes = { (id: ValueID) in Self.storedAsCodes(id, formats) }
        guard storedAsCodes(node.output), let first = node.inputs.first, storedAsCodes(first) else { return nil }
        switch node.op.quantization.islandOnCodes {
        case nil:
            return nil
        case .unaryTable:
            return 0
        case .addition:
            guard node.inputs.count == 2, storedAsCodes(node.inputs[1]),
                  graph.info(node.inputs[0]).shape == graph.info(node.inputs[1]).shape else { return nil }
            return 0
        case let .rows(normalization):
            return QuantizedRows.supports(normalization, node, graph: graph) ? QuantizedRows.scratchBytes(threads: threads) : nil
        }
    }

    private static func storedAsCodes(_ id: ValueID, _ formats: [Int8Executor.Format]) -> Bool {
        if case .q8 = formats[id.index] { return true }
        return false
    }
}

/// The scratch one node of the INT8 executor runs with.
struct ScratchRegion {
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int
}
