import OnboardCore

/// An op run in float inside the INT8 graph: quantized operands are dequantized into scratch,
/// the FP32 kernel runs, and a quantized output is quantized back.
enum FloatIsland {
    /// The FP32 kernel's scratch, then room for the f32 copy of each operand stored as codes; with
    /// `tiled`, tiles per thread for an island that splits (`TiledIsland`).
    static func scratchBytes(_ node: Node, graph: Graph, threads: Int, tiled: Bool, storedAsCodes: (ValueID) -> Bool) -> Int {
        if tiled, let bytes = TiledIsland.scratchBytes(node, graph: graph, threads: threads, storedAsCodes: storedAsCodes) { return bytes }
        return MemoryPlanner.align(FP32Kernels.scratchBytes(node, graph, threads: threads)) + operandBytes(node, graph, storedAsCodes)
    }

    private static func operandBytes(_ node: Node, _ graph: Graph, _ storedAsCodes: (ValueID) -> Bool) -> Int {
        let dequantized = (node.inputs + [node.output]).filter { graph.info($0).dtype == .f32 && storedAsCodes($0) }
        return dequantized.reduce(0) { $0 + MemoryPlanner.align(graph.info($1).count * 4) }
    }

    static func run(_ node: Node, executor: Int8Executor, scratch: UnsafeMutableRawPointer) throws {
        // An island computing an operand's tiles has no plain path: that operand is never stored.
        if executor.codePathsEnabled || !executor.tileProducers(of: node).isEmpty,
           try TiledIsland.run(node, executor: executor, scratch: scratch) { return }
        let graph = executor.graph
        var offset = MemoryPlanner.align(FP32Kernels.scratchBytes(node, graph, threads: executor.threads))
        let needed = offset + operandBytes(node, graph) { executor.storesCodes($0) }
        guard needed <= executor.scratch.byteCount else {
            throw OnboardError.model(item: node.name, reason: "the INT8 executor planned \(executor.scratch.byteCount) scratch bytes, "
                                     + "this float island needs \(needed)")
        }
        func floatOperand(_ id: ValueID) -> Operand {
            let info = graph.info(id)
            guard info.dtype == .f32 else {  // integer indices (gather) are stored as they are
                return Operand(pointer: UnsafeMutableRawPointer(executor.floats(id)), shape: info.shape, dtype: info.dtype)
            }
            switch executor.format(id) {
            case .f32:
                return Operand(pointer: UnsafeMutableRawPointer(executor.floats(id)), shape: info.shape, dtype: .f32)
            case .q8:
                let target = (scratch + offset).assumingMemoryBound(to: Float.self)
                offset += MemoryPlanner.align(info.count * 4)
                executor.copyAsFloat(id, into: target)
                return Operand(pointer: UnsafeMutableRawPointer(target), shape: info.shape, dtype: .f32)
            }
        }
        let inputs = node.inputs.map(floatOperand)
        let info = graph.info(node.output)
        let context = KernelContext(threads: executor.threads, scratch: scratch)
        switch executor.format(node.output) {
        case .f32:
            let output = Operand(pointer: UnsafeMutableRawPointer(executor.floats(node.output)), shape: info.shape, dtype: .f32)
            try FP32Kernels.run(node, inputs, output, context)
        case let .q8(q):
            let target = (scratch + offset).assumingMemoryBound(to: Float.self)
            try FP32Kernels.run(node, inputs, Operand(pointer: UnsafeMutableRawPointer(target), shape: info.shape, dtype: .f32), context)
            if let log = executor.logCodes(node.output) {
                let codes = executor.codes(node.output)
                for i in 0..<info.count { codes[i] = log.code(of: target[i]) }
                return
            }
            ActivationCodec.quantize(target, into: executor.codes(node.output), count: info.count, q, threads: executor.threads)
        }
    }
}
