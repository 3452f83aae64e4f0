import OnboardCore

/// Nodes computed from constants alone, such as a decoder's first self-attention on its zero
/// target and query embedding: every run gives the same values, so the INT8 executor computes them
/// once, exactly in FP32, when it is built, and stores as codes only the values that the remaining
/// ops read ("pinned").
struct ConstantSubgraph {
    /// Indices of the precomputed nodes (views excluded: they alias their source).
    let nodes: Set<Int>
    /// Precomputed values that run-time ops or graph outputs read (through views too).
    let pinned: Set<ValueID>

    /// - Parameter specialForms: values an integer op stores in a form of its own (stabilized
    ///   logits, deferred probabilities); their producers stay at run time when such a value would
    ///   be pinned, because its calibration is that form's.
    init(_ graph: Graph, specialForms: Set<Int>) {
        var excluded: Set<Int> = []
        while true {
            let nodes = Self.computable(graph, excluding: excluded)
            let pinned = Self.readAtRunTime(graph, nodes: nodes)
            let special = Set(pinned.map(\.index)).intersection(specialForms)
            if special.isEmpty {
                self.nodes = nodes
                self.pinned = pinned
                return
            }
            excluded.formUnion(special)
        }
    }

    /// Non-view nodes whose inputs are constants, outputs of such nodes, or views of either.
    private static func computable(_ graph: Graph, excluding excluded: Set<Int>) -> Set<Int> {
        var isStatic = Set(graph.constants.keys.map(\.index))
        var result: Set<Int> = []
        for (index, node) in graph.nodes.enumerated() where !node.inputs.isEmpty && node.inputs.allSatisfy({ isStatic.contains($0.index) }) {
            if node.op.isView {
                isStatic.insert(node.output.index)
            } else if !excluded.contains(node.output.index) {
                result.insert(index)
                isStatic.insert(node.output.index)
            }
        }
        return result
    }

    /// Outputs of `nodes` that a run-time node or a graph output reads, directly or through views.
    private static func readAtRunTime(_ graph: Graph, nodes: Set<Int>) -> Set<ValueID> {
        var source: [ValueID: ValueID] = [:]
        for index in nodes { source[graph.nodes[index].output] = graph.nodes[index].output }
        var result: Set<ValueID> = []
        for (index, node) in graph.nodes.enumerated() where !nodes.contains(index) {
            if node.op.isView, let root = source[node.inputs[0]] {
                source[node.output] = root
                continue
            }
            for input in node.inputs { if let root = source[input] { result.insert(root) } }
        }
        for output in graph.outputs { if let root = source[output] { result.insert(root) } }
        return result
    }

    /// The precomputed values, computed with the FP32 kernels.
    func evaluate(_ graph: Graph, threads: Int) throws -> [ValueID: Tensor] {
        let scratchBytes = nodes.map { FP32Kernels.scratchBytes(graph.nodes[$0], graph, threads: threads) }.max() ?? 0
        let scratch = AlignedBuffer(byteCount: max(scratchBytes, 64))
        let producers = graph.producers
        var values: [ValueID: Tensor] = [:]
        // A constant, a value computed here, or a view of either (views share their source's bytes).
        func tensor(_ id: ValueID) throws -> Tensor? {
            if let known = values[id] ?? graph.floatConstant(id) { return known }
            guard let producer = producers[id], graph.nodes[producer].op.isView,
                  let source = try tensor(graph.nodes[producer].inputs[0]) else { return nil }
            return try source.reshaped(graph.info(id).shape)
        }
        for index in nodes.sorted() {
            let node = graph.nodes[index]
            // The tensors stay alive until the kernel has run: an int8 weight's dequantized copy
            // exists nowhere else.
            let inputs = try node.inputs.map { input -> Tensor in
                guard let operand = try tensor(input) else {
                    throw OnboardError.invalidArgument("precomputing '\(node.name)': '\(graph.info(input).name)' is not constant")
                }
                return operand
            }
            let info = graph.info(node.output)
            let output = Tensor(zeros: info.shape, dtype: info.dtype)
            try withExtendedLifetime(inputs) {
                try FP32Kernels.run(node, inputs.map { Operand(pointer: $0.rawPointer, shape: $0.shape, dtype: $0.dtype) },
                                    Operand(pointer: output.rawPointer, shape: info.shape, dtype: info.dtype),
                                    KernelContext(threads: threads, scratch: scratch.pointer))
            }
            values[node.output] = output
        }
        return values
    }
}
