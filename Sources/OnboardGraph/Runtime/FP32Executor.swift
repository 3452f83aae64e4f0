import OnboardCore

/// Runs a graph in FP32: one arena from the memory planner (each node's scratch planned in it
/// with the values), OpenBLAS for products, vectorized kernels for the rest, `threads` workers.
public final class FP32Executor {
    public let graph: Graph
    public let plan: MemoryPlan
    public let threads: Int
    /// When set, every node's time and traffic is recorded.
    public var profiler: Profiler?
    /// When set, sees every graph input and every node output as soon as it is computed
    /// (calibration observers, layer-by-layer comparisons).
    public var valueObserver: ((ValueID, UnsafeBufferPointer<Float>) throws -> Void)?

    private let arena: AlignedBuffer
    /// The scratch pointer of nodes that need none.
    private let noScratch = AlignedBuffer(byteCount: 64)
    private var operands: [Operand?]
    /// Float copies of int8 constants (a quantized bundle run in FP32), kept alive here.
    private var materialized: [Tensor] = []
    /// Constant right-hand sides packed for the GEMM kernel, by node index.
    private var packed: [Int: PackedMatrix] = [:]

    /// - Parameter packedWeights: Linear weights packed by an earlier executor of the same model at
    ///   another shape (a sentence encoder has a graph per sequence length), reused by name.
    public init(graph: Graph, threads: Int = Parallel.coreCount, packedWeights: PackedWeightCache? = nil) throws {
        guard threads >= 1 else { throw OnboardError.invalidArgument("thread count must be >= 1, got \(threads)") }
        // Before packing: the packed layout follows the ISA cap.
        try KernelISA.applyEnvironment()
        self.graph = graph
        self.threads = threads
        plan = MemoryPlanner.plan(graph, scratchBytes: graph.nodes.map { FP32Kernels.scratchBytes($0, graph, threads: threads) })
        arena = AlignedBuffer(byteCount: plan.arenaBytes)
        operands = Array(repeating: nil, count: graph.values.count)
        for index in graph.values.indices {
            let id = ValueID(index: index)
            let info = graph.info(id)
            if let tensor = graph.floatConstant(id) {
                if tensor.dtype != graph.constants[id]?.dtype { materialized.append(tensor) }
                operands[index] = Operand(pointer: tensor.rawPointer, shape: tensor.shape, dtype: tensor.dtype)
            } else if let source = plan.constantViews[id], let tensor = graph.constants[source] {
                operands[index] = Operand(pointer: tensor.rawPointer, shape: info.shape, dtype: info.dtype)
            } else if let offset = plan.offsets[id] {
                operands[index] = Operand(pointer: arena.pointer + offset, shape: info.shape, dtype: info.dtype)
            }
        }
        for (index, node) in graph.nodes.enumerated() where node.op == .linear && graph.constants[node.inputs[1]] != nil {
            let weight = node.inputs[1]
            let pack = {
                defer { graph.constants[weight]?.releaseMappedPages() }
                return LinearOp.pack(self.operand(weight))
            }
            packed[index] = packedWeights?.value(graph.info(weight).name, make: pack) ?? pack()
        }
    }

    /// Runs on named inputs (f32, exact shapes) and returns the named outputs (fresh tensors).
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        for id in graph.inputs {
            let info = graph.info(id)
            let tensor = try graph.inputTensor(id, in: inputs)
            operand(id).pointer.copyMemory(from: tensor.rawPointer, byteCount: info.byteCount)
            try observe(id)
        }
        for (index, node) in graph.nodes.enumerated() {
            let scratch = plan.scratchOffsets[index].map { arena.pointer + $0 } ?? noScratch.pointer
            let context = KernelContext(threads: threads, scratch: scratch, packed: packed[index])
            let inputs = node.inputs.map(operand)
            let output = operand(node.output)
            if let profiler {
                let start = Profiler.now()
                try FP32Kernels.run(node, inputs, output, context)
                let bytes = inputs.reduce(output.count * output.dtype.byteSize) { $0 + $1.count * $1.dtype.byteSize }
                profiler.add(node: node, seconds: Profiler.now() - start, bytes: bytes)
            } else {
                try FP32Kernels.run(node, inputs, output, context)
            }
            try observe(node.output)
        }
        var results: [String: Tensor] = [:]
        for id in graph.outputs {
            let info = graph.info(id)
            let tensor = Tensor(zeros: info.shape, dtype: info.dtype)
            tensor.rawPointer.copyMemory(from: operand(id).pointer, byteCount: info.byteCount)
            results[info.name] = tensor
        }
        return results
    }

    private func observe(_ id: ValueID) throws {
        guard let valueObserver, graph.info(id).dtype == .f32 else { return }
        let value = operand(id)
        try valueObserver(id, UnsafeBufferPointer(start: value.floats, count: value.count))
    }

    private func operand(_ id: ValueID) -> Operand {
        guard let operand = operands[id.index] else {
            preconditionFailure("value '\(graph.info(id).name)' has no storage: graph and plan disagree")
        }
        return operand
    }
}
