import CKernels
import OnboardCore

/// Runs a graph the way an 8-bit per-tensor target does: every activation tensor is uint8 with
/// one scale and zero point from a `QuantizationPlan`; linear, conv and the attention matmuls
/// run on int8 kernels with int32 accumulation; ops that only move or select elements
/// (permute, slice, max pooling, nearest upsampling) run on the codes with their input's
/// parameters; the other ops (layernorm, softmax, gelu, adds, ...) run in float between
/// dequantize and quantize ("float islands"); ops the recipe keeps in float produce f32 tensors.
///
/// Recipe options for the nonlinear ops: `"softmax": "lut"` runs softmax as `IntegerSoftmax`,
/// `"layernorm": "integer"` runs layernorm as `IntegerLayerNorm` (both `.integer`, not islands), and
/// `"softmax_input": "stabilized"` (QANS) stores the logits of every softmax fed by an integer matmul
/// minus their row max (`SoftmaxStabilization`): those values, as the observer sees them too, are
/// the stabilized logits, not the graph's float logits. `"softmax_output": "deferred"` stores the
/// integer softmaxes read only by integer matmuls as each row's e^(x - max), and those matmuls divide
/// by the row sums (`SoftmaxNormalization`); such a tensor is dequantized as the probabilities it
/// stands for (codes over their row sum).
public final class Int8Executor {
    /// How each node runs.
    public enum Execution: String, Sendable {
        case integer, floatIsland = "float_island", keptFloat = "kept_float", movement, view
        /// Computed from constants alone, once, in FP32 (`ConstantSubgraph`).
        case precomputed
    }

    enum Format {
        case q8(ActivationQuant)
        case f32
    }

    public let graph: Graph
    public let plan: QuantizationPlan
    public let threads: Int
    /// Where quantized weights are shared with executors of the same model at other shapes.
    let weightCache: QuantizedWeightCache?
    public let executions: [Execution]
    public let memoryPlan: MemoryPlan
    /// Softmax inputs stored stabilized (row max subtracted), see `SoftmaxStabilization`.
    public let stabilizedValues: Set<ValueID>
    /// Softmax outputs stored as e^(x - row max), normalized by the matmul reading them, see `SoftmaxNormalization`.
    public let deferredValues: Set<ValueID>
    /// Precomputed values stored (as codes) for the ops that run; the other precomputed values
    /// and their views are not stored.
    public let pinnedValues: Set<ValueID>
    private let unstoredValues: Set<Int>
    /// Linears writing attention heads in place (by node index), where each block goes in the arena,
    /// and the nodes that therefore do not run.
    private let headSplits: [Int: HeadSplit]
    private var headSplitOutputs: [Int: [UnsafeMutablePointer<UInt8>]] = [:]
    /// Integer ops computed a tile at a time by the float islands reading them (`TileProducer`),
    /// by island output; they do not run on their own and their outputs are never stored.
    private let tileProducers: [ValueID: [TileProducer]]
    /// Node indexes of those ops.
    private let producingNodes: Set<Int>
    private let skippedNodes: Set<Int>
    public var profiler: Profiler?
    /// Sees every input and node output, dequantized, as soon as it is computed.
    public var valueObserver: ((ValueID, UnsafeBufferPointer<Float>) throws -> Void)?

    let formats: [Format]
    /// Where the recipe's `low_bit` part applies (`LowBitLayout`).
    let lowBitLayout: LowBitLayout
    /// Low-bit Linears that need their own row epilogue (per-patch inputs, CFWS weights), by node index.
    var lowBitLinears: [Int: LowBitLinear] = [:]
    /// Linears reading Shift-Log2 codes: the table from codes to their product's u8, by node index.
    var logInputTables: [Int: [UInt8]] = [:]
    private let arena: AlignedBuffer
    /// Each node's scratch (its part of `scratchLayout`) is planned inside the arena, where no
    /// value live while it runs lies; the running node's part is `scratch`.
    let scratchLayout: ScratchLayout
    /// With the code paths off, one buffer for the plain islands, used by every node instead.
    private(set) var plainScratch: AlignedBuffer?
    private let noScratch = AlignedBuffer(byteCount: 64)
    private var runningNode = 0
    var scratch: ScratchRegion {
        if let plainScratch { return ScratchRegion(pointer: plainScratch.pointer, byteCount: plainScratch.byteCount) }
        guard let offset = memoryPlan.scratchOffsets[runningNode] else { return ScratchRegion(pointer: noScratch.pointer, byteCount: 0) }
        return ScratchRegion(pointer: arena.pointer + offset, byteCount: scratchLayout.nodeBytes[runningNode])
    }
    var linears: [Int: Int8Linear] = [:]
    private var convolutions: [Int: Int8Conv2d] = [:]
    var sequenceConvolutions: [Int: Int8CausalConv1d] = [:]
    /// Code-to-code tables of unary float islands.
    var tables: [Int: [UInt8]] = [:]
    /// Multipliers of the add/sub islands run in integers (fixed-point requantization only).
    private var integerAdds: [Int: DyadicAdd] = [:]
    /// The same for an add/sub of codes (operand index) and a same-shape constant.
    private var constantAdds: [Int: (operand: Int, DyadicConstantAdd)] = [:]
    /// Integer softmax and layernorm kernels, by node index.
    var integerSoftmaxes: [Int: IntegerSoftmax] = [:]
    var deferredSoftmaxes: [Int: DeferredSoftmax] = [:]
    var integerNorms: [Int: IntegerLayerNorm] = [:]
    /// Integer layernorms of an integer add that read its operands at 16 bits (`"residual_bits": 16`).
    let wideNorms: [Int: WideResidualNorm]
    /// Islands computed straight from codes (tables, fused add, row blocks) or a tile at a time
    /// (`TiledIsland`); off only to test that they match the plain islands, which need more scratch.
    var codePathsEnabled = true {
        didSet {
            plainScratch = codePathsEnabled ? nil : AlignedBuffer(byteCount: max(scratchLayout.plainIslandByteCount, scratchLayout.byteCount))
        }
    }
    /// f32 views of constants (int8 weights used by float ops are dequantized once).
    private var constants: [Int: Tensor] = [:]

    /// Names of the nodes that compute in float: kept ops, and islands other than those computed
    /// from codes with integers only (a code table, an add with fixed-point requantization).
    public var floatOps: [String] { nodeNames { $0 == .keptFloat || ($0 == .floatIsland && !$1) } }

    /// Names of the nodes that compute with integers: integer kernels and islands run on codes
    /// with integers only.
    public var integerOps: [String] { nodeNames { $0 == .integer || ($0 == .floatIsland && $1) } }

    /// Names of the Linears that write attention heads in place (`HeadSplit`).
    public var inPlaceHeadSplits: [String] { headSplits.keys.sorted().map { graph.nodes[$0].name } }

    /// Names of the nodes computed once from constants when the executor is built.
    public var precomputedOps: [String] { nodeNames { execution, _ in execution == .precomputed } }

    private func nodeNames(where include: (Execution, _ integerOnCodes: Bool) -> Bool) -> [String] {
        graph.nodes.indices.filter { index in
            guard !skippedNodes.contains(index) || headSplits[index] != nil || producingNodes.contains(index) else { return false }
            let onCodes = codePathsEnabled && (tables[index] != nil || integerAdds[index] != nil || constantAdds[index] != nil)
            return include(executions[index], onCodes)
        }.map { graph.nodes[$0].name }
    }

    /// The parameters of `id` when this executor stores it as codes; nil when it stays float.
    public func storedQuantization(of id: ValueID) -> ActivationQuant? {
        if case let .q8(params) = formats[id.index] { return params }
        return nil
    }

    /// Bytes of the weights as this executor holds them (packed int8 + tables, f32 constants of float ops).
    public internal(set) var weightBytes = 0

    /// - Parameters:
    ///   - planSource: where the plan came from, for error messages.
    ///   - splitsHeadsInPlace: Linears write attention heads where the head-split permutes would put them
    ///     (`HeadSplit`), and float islands compute the f32 tiles that integer ops make for them alone
    ///     (`TileProducer`), and integer softmaxes write over their logits (`InPlaceSoftmax`); the
    ///     values in between are then never stored or overwritten, so a `valueObserver` sees them
    ///     only with this off.
    public init(graph: Graph, plan: QuantizationPlan, threads: Int = Parallel.coreCount, planSource: String = "quant.json",
                splitsHeadsInPlace: Bool = true, weightCache: QuantizedWeightCache? = nil) throws {
        guard threads >= 1 else { throw OnboardError.invalidArgument("thread count must be >= 1, got \(threads)") }
        try KernelISA.applyEnvironment()
        try plan.validate(against: graph, source: planSource)
        let graph = try ConstantAddendFolding.apply(graph, recipe: plan.recipe)
        self.graph = graph
        self.plan = plan
        self.threads = threads
        self.weightCache = weightCache
        let stabilized = SoftmaxStabilization.stabilizedValues(in: graph, recipe: plan.recipe)
        let deferred = SoftmaxNormalization.deferredValues(in: graph, recipe: plan.recipe)
        let precomputed = ConstantSubgraph(graph, specialForms: stabilized.union(deferred))
        let precomputedValues = Set(precomputed.nodes.map { graph.nodes[$0].output.index })
        let lowBitLayout = LowBitLayout(graph: graph, recipe: plan.recipe)
        self.lowBitLayout = lowBitLayout
        let floatNorms = lowBitLayout.floatNorms(in: graph)
        executions = graph.nodes.indices.map { index in
            if precomputed.nodes.contains(index) { return .precomputed }
            return floatNorms.contains(index) ? .keptFloat : Self.execution(of: graph.nodes[index], graph: graph, recipe: plan.recipe)
        }
        stabilizedValues = Set(stabilized.subtracting(precomputedValues).map { ValueID(index: $0) })
        deferredValues = Set(deferred.subtracting(precomputedValues).map { ValueID(index: $0) })
        pinnedValues = precomputed.pinned
        let dequantizedOutputs = DequantizedOutputs.values(in: graph, recipe: plan.recipe)
        var formats = [Format](repeating: .f32, count: graph.values.count)
        // `validate` guarantees parameters for every non-constant value.
        func params(_ id: ValueID) -> ActivationQuant { plan.activations[graph.info(id).name]! }
        // Float inputs are quantized on entry; integer inputs (indices) are kept as they are.
        for input in graph.inputs where graph.info(input).dtype == .f32 { formats[input.index] = .q8(params(input)) }
        for (node, execution) in zip(graph.nodes, executions) {
            switch execution {
            case .view, .movement: formats[node.output.index] = formats[node.inputs[0].index]
            case .keptFloat: formats[node.output.index] = .f32
            case .precomputed: formats[node.output.index] = precomputed.pinned.contains(node.output) ? .q8(params(node.output)) : .f32
            case .integer, .floatIsland:
                formats[node.output.index] = dequantizedOutputs.contains(node.output.index) ? .f32 : .q8(params(node.output))
            }
        }
        self.formats = formats
        var unstored = precomputedValues.subtracting(precomputed.pinned.map(\.index))
        let rowEpilogues = lowBitLayout.rowEpilogueLinears(in: graph, recipe: plan.recipe)
        let headSplits = splitsHeadsInPlace ? Self.headSplits(graph, executions: executions, formats: formats).filter { !rowEpilogues.contains($0.key) } : [:]
        var writtenEarly: [ValueID: Int] = [:]
        for (index, split) in headSplits {
            unstored.formUnion(split.unstoredValues)
            for destination in split.destinations { writtenEarly[destination] = index }
        }
        let wide = try WideResidualNorm.plan(in: graph, executions: executions, formats: formats, recipe: plan.recipe)
        wideNorms = wide.norms
        for index in wide.bypassedNodes { unstored.insert(graph.nodes[index].output.index) }
        let producers = splitsHeadsInPlace
            ? TileProducer.plan(in: graph, executions: executions, formats: formats, lowBit: lowBitLayout) : [:]
        producingNodes = Set(producers.values.flatMap { $0.map(\.node) })
        for node in producingNodes { unstored.insert(graph.nodes[node].output.index) }
        tileProducers = Dictionary(uniqueKeysWithValues: producers.map { (graph.nodes[$0.key].output, $0.value) })
        for node in graph.nodes where node.op.isView && unstored.contains(node.inputs[0].index) { unstored.insert(node.output.index) }
        self.unstoredValues = unstored
        self.headSplits = headSplits
        skippedNodes = Set(headSplits.values.flatMap(\.skippedNodes)).union(wide.bypassedNodes).union(producingNodes)
        let byteCounts = formats.enumerated().map { index, format -> Int in
            if unstored.contains(index) { return 0 }
            if case .q8 = format { return graph.values[index].count }
            return graph.values[index].byteCount
        }
        let layout = ScratchLayout(graph: graph, executions: executions, formats: formats, threads: threads,
                                   stabilized: stabilizedValues, deferred: deferredValues, producedTiles: producers.mapValues(\.count)) { index in
            lowBitLayout.workBytes(node: index, graph: graph, recipe: plan.recipe, rowEpilogue: rowEpilogues.contains(index))
        }
        scratchLayout = layout
        let inPlace = splitsHeadsInPlace
            ? InPlaceSoftmax.plan(in: graph, executions: executions, formats: formats,
                                  excluded: unstored.union(precomputed.pinned.map(\.index)).union(writtenEarly.keys.map(\.index)))
            : [:]
        memoryPlan = MemoryPlanner.plan(graph, byteCount: { byteCounts[$0.index] }, scratchBytes: layout.nodeBytes,
                                        pinned: precomputed.pinned, writtenEarly: writtenEarly, aliases: inPlace,
                                        alsoReads: wide.norms.mapValues { [$0.a, $0.b] }.merging(producers.mapValues { $0.map(\.input) }) { $0 + $1 })
        arena = AlignedBuffer(byteCount: memoryPlan.arenaBytes)
        for (index, split) in headSplits { headSplitOutputs[index] = split.blocks.map { codes($0.destination) + $0.offset } }
        let values = try precomputed.evaluate(graph, threads: threads)
        for id in precomputed.pinned {
            guard let tensor = values[id] else { continue }
            ActivationCodec.quantize(tensor.floatPointer, into: codes(id), count: tensor.count, params(id), threads: threads)
        }
        try prepareWeights()
        try prepareNonlinear(planSource: planSource)
    }

    static func execution(of node: Node, graph: Graph, recipe: QuantizationRecipe) -> Execution {
        let traits = node.op.quantization
        if traits.isView { return .view }
        if recipe.keepsFloat(node) { return .keptFloat }
        switch traits.form {
        case .view: return .view
        case .movesCodesOnly: return graph.constants[node.inputs[0]] != nil ? .floatIsland : .movement
        case let .integerKernel(kernel): return kernel.runs(node, graph: graph, recipe: recipe) ? .integer : .floatIsland
        case .floatIsland: return .floatIsland
        }
    }

    /// The kernel of a node whose execution is `.integer`.
    static func integerKernel(of node: Node) -> IntegerKernel {
        guard let kernel = node.op.quantization.integerKernel else { preconditionFailure("\(node.op.kind) has no integer kernel") }
        return kernel
    }

    private func prepareWeights() throws {
        let fixedPoint = plan.recipe.requantization == .fixedPoint
        for (index, node) in graph.nodes.enumerated() where executions[index] == .integer {
            let outputParams = params(node.output)
            let inputParams = params(node.inputs[0])
            switch Self.integerKernel(of: node) {
            case .linear where lowBitLayout.linears.contains(index):
                try prepareLowBitLinear(index, node, input: inputParams, output: outputParams, fixedPoint: fixedPoint)
            case .linear:
                let weight = quantizedWeight(node.inputs[1])
                let bias = node.inputs.count == 3 ? graph.constants[node.inputs[2]] : nil
                let shape = weight.codes.shape
                let perColumn = bias.map { $0.count == shape[0] } ?? true
                let codes = weight.codes.rawPointer.assumingMemoryBound(to: Int8.self)
                let packed = weightCache?.packed.value(graph.info(node.inputs[1]).name) {
                    PackedWeights(codes: codes, n: shape[0], k: shape[1], bits: 8)
                }
                let linear = Int8Linear(codes: codes, scales: weight.scales,
                                        n: shape[0], k: shape[1], bias: perColumn ? bias.map { UnsafePointer($0.floatPointer) } : nil,
                                        elementBias: perColumn ? nil : bias.map { UnsafeBufferPointer(start: $0.floatPointer, count: $0.count) },
                                        input: inputParams, output: outputParams, fixedPoint: fixedPoint,
                                        floatOutput: !storesCodes(node.output), packed: packed)
                linears[index] = linear
                weight.codes.releaseMappedPages()
                weightBytes += linear.byteCount
            case let .conv2d(convolution):
                let weight = quantizedWeight(node.inputs[1])
                let bias = node.inputs.count == 3 ? graph.constants[node.inputs[2]] : nil
                let conv = Int8Conv2d(codes: weight.codes.rawPointer.assumingMemoryBound(to: Int8.self), scales: weight.scales,
                                      weightShape: weight.codes.shape, bias: bias.map { UnsafePointer($0.floatPointer) },
                                      params: convolution, input: inputParams, output: outputParams, fixedPoint: fixedPoint)
                convolutions[index] = conv
                weight.codes.releaseMappedPages()
                weightBytes += conv.byteCount
            case let .causalConv1d(reverse):
                let weight = quantizedWeight(node.inputs[1])
                let shape = weight.codes.shape
                let conv = Int8CausalConv1d(codes: weight.codes.rawPointer.assumingMemoryBound(to: Int8.self), scales: weight.scales,
                                            channels: shape[0], taps: shape[2], bias: graph.constants[node.inputs[2]].map { UnsafePointer($0.floatPointer) },
                                            reverse: reverse, input: inputParams, output: outputParams, fixedPoint: fixedPoint,
                                            floatOutput: !storesCodes(node.output))
                sequenceConvolutions[index] = conv
                weight.codes.releaseMappedPages()
                weightBytes += conv.byteCount
            case .matmul, .softmax, .layerNorm:
                break
            }
        }
        for (index, node) in graph.nodes.enumerated() where executions[index] == .floatIsland && node.op.quantization.hasUnaryTable {
            if case let .q8(input) = format(node.inputs[0]), case let .q8(output) = formats[node.output.index] {
                tables[index] = try logCodes(node.output).map { try LogCodeTables.unary(node, input: input, output: $0) }
                    ?? QuantizedElementwise.table(node, input: input, output: output)
            }
        }
        if plan.recipe.requantization == .fixedPoint {
            for (index, node) in graph.nodes.enumerated() where executions[index] == .floatIsland {
                guard case let .addition(subtract)? = node.op.quantization.islandOnCodes,
                      case let .q8(yq) = formats[node.output.index] else { continue }
                if let (aq, bq) = codeOperands(node) {
                    integerAdds[index] = DyadicAdd(a: aq, b: bq, subtract: subtract, output: yq)
                } else if let (operand, constant) = constantOperand(node), case let .q8(aq) = format(node.inputs[operand]),
                          let add = constant.withFloats({ DyadicConstantAdd(codes: aq, negateCodes: subtract && operand == 1,
                                                                            constant: $0, negateConstant: subtract && operand == 0,
                                                                            output: yq) }) {
                    constantAdds[index] = (operand, add)
                }
            }
        }
        // Constants read by float ops.
        for (index, node) in graph.nodes.enumerated() where executions[index] != .integer && executions[index] != .precomputed {
            for operand in node.inputs where constants[operand.index] == nil {
                if let tensor = graph.floatConstant(operand) {
                    constants[operand.index] = tensor
                    weightBytes += tensor.byteCount
                }
            }
        }
    }

    /// The weight's int8 codes: as stored (a quantized bundle) or quantized now per the recipe.
    private func quantizedWeight(_ id: ValueID) -> QuantizedWeight {
        guard let weightCache else { return QuantizedWeight(constant: id, in: graph, recipe: plan.recipe, threads: threads)! }
        return weightCache.value(graph.info(id).name) { QuantizedWeight(constant: id, in: graph, recipe: plan.recipe, threads: threads)! }
    }

    /// Quantized weights of the integer ops, by weight name (for saving a quantized bundle).
    public func quantizedWeights() -> [String: QuantizedWeight] {
        var result: [String: QuantizedWeight] = [:]
        for (index, node) in graph.nodes.enumerated() where executions[index] == .integer {
            if case .linear = node.op, lowBitLayout.linears.contains(index) {
                // CFWS weights have no single code per element: those stay float in a saved bundle.
                if plan.recipe.lowBit?.cfwsFraction == nil { result[graph.info(node.inputs[1]).name] = lowBitWeight(node.inputs[1]) }
                continue
            }
            switch node.op {
            case .linear, .conv2d, .causalConv1d: result[graph.info(node.inputs[1]).name] = quantizedWeight(node.inputs[1])
            default: break
            }
        }
        return result
    }

    func params(_ id: ValueID) -> ActivationQuant { plan.activations[graph.info(id).name]! }

    // MARK: - running

    /// How the input `name` is stored when the executor holds it as u8 codes; nil for an input
    /// it keeps in float (or no such input).
    public func inputQuantization(_ name: String) -> ActivationQuant? {
        guard let id = graph.inputs.first(where: { graph.info($0).name == name }), case let .q8(q) = format(id) else { return nil }
        return q
    }

    /// Runs on named f32 inputs and returns the outputs dequantized to f32. An input stored as codes
    /// (`inputQuantization` non-nil) may instead be given already quantized, as a u8 tensor of its shape.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        for id in graph.inputs {
            let info = graph.info(id)
            if case .q8 = format(id), let given = inputs[info.name], given.dtype == .u8 {
                guard given.shape == info.shape else {
                    throw OnboardError.shape(item: "input '\(info.name)'", reason: "expected u8 codes \(info.shape), got \(given.shape)")
                }
                codes(id).update(from: given.rawPointer.assumingMemoryBound(to: UInt8.self), count: info.count)
                try observe(id)
                continue
            }
            let tensor = try graph.inputTensor(id, in: inputs)
            if case .q8 = format(id) {
                ActivationCodec.quantize(tensor.floatPointer, into: codes(id), count: info.count, params(id), threads: threads)
            } else {
                (arena.pointer + memoryPlan.offsets[id]!).copyMemory(from: tensor.rawPointer, byteCount: info.byteCount)
            }
            try observe(id)
        }
        for (index, node) in graph.nodes.enumerated() {
            if skippedNodes.contains(index) {
                try observe(node.output)  // a destination the Linear already wrote, or unstored
                continue
            }
            if unstoredValues.contains(node.output.index) && headSplits[index] == nil { continue }
            let start = profiler == nil ? 0 : Profiler.now()
            runningNode = index
            try execute(index, node)
            if let profiler {
                let bytes = (node.inputs + [node.output]).reduce(0) { $0 + storedBytes($1) }
                profiler.add(node: node, seconds: Profiler.now() - start, bytes: bytes)
            }
            try observe(node.output)
        }
        var results: [String: Tensor] = [:]
        for id in graph.outputs {
            let info = graph.info(id)
            let tensor = Tensor(zeros: info.shape)
            copyAsFloat(id, into: tensor.floatPointer)
            results[info.name] = tensor
        }
        return results
    }

    private func execute(_ index: Int, _ node: Node) throws {
        switch executions[index] {
        case .view, .precomputed:
            return
        case .movement:
            let inputs = [storedOperand(node.inputs[0])]
            try FP32Kernels.run(node, inputs, storedOperand(node.output), KernelContext(threads: threads, scratch: scratch.pointer))
        case .integer:
            try executeInteger(index, node)
        case .floatIsland:
            if try !(codePathsEnabled && executeOnCodes(index, node)) { try FloatIsland.run(node, executor: self, scratch: scratch.pointer) }
        case .keptFloat:
            try FloatIsland.run(node, executor: self, scratch: scratch.pointer)
        }
    }

    /// Float islands computed straight from codes (same results as the plain island); false if
    /// this node has no such path.
    private func executeOnCodes(_ index: Int, _ node: Node) throws -> Bool {
        guard case let .q8(yq) = formats[node.output.index] else { return false }
        let count = graph.info(node.output).count
        switch node.op.quantization.islandOnCodes {
        case nil:
            return false
        case .unaryTable:
            guard let table = tables[index] else { return false }
            QuantizedElementwise.lookup(codes(node.inputs[0]), codes(node.output), count: count, table: table, threads: threads)
            return true
        case let .addition(subtract):
            if let (operand, constant) = constantAdds[index], case let .q8(aq) = format(node.inputs[operand]) {
                QuantizedElementwise.add(codes(node.inputs[operand]), aq, constant: constant, into: codes(node.output), yq,
                                         count: count, threads: threads)
                return true
            }
            guard let (aq, bq) = codeOperands(node) else { return false }
            if let multipliers = integerAdds[index] {
                QuantizedElementwise.add(codes(node.inputs[0]), aq, codes(node.inputs[1]), bq, into: codes(node.output), yq,
                                         count: count, multipliers: multipliers, threads: threads)
            } else {
                QuantizedElementwise.add(codes(node.inputs[0]), aq, codes(node.inputs[1]), bq, subtract: subtract,
                                         into: codes(node.output), yq, count: count, threads: threads)
            }
            return true
        case let .rows(normalization):
            guard QuantizedRows.supports(normalization, node, graph: graph), case let .q8(xq) = format(node.inputs[0]) else { return false }
            let isNorm = normalization != .softmax
            QuantizedRows.run(normalization, x: codes(node.inputs[0]), xq: xq, y: codes(node.output), yq: yq,
                              shape: graph.info(node.inputs[0]).shape,
                              gamma: isNorm ? UnsafePointer(floats(node.inputs[1])) : nil,
                              beta: isNorm ? UnsafePointer(floats(node.inputs[2])) : nil,
                              scratch: scratch.pointer, threads: threads)
            return true
        }
    }

    /// Parameters of an add/sub whose operands are both codes of one shape.
    private func codeOperands(_ node: Node) -> (ActivationQuant, ActivationQuant)? {
        guard case let .q8(aq) = format(node.inputs[0]), case let .q8(bq) = format(node.inputs[1]),
              graph.info(node.inputs[0]).shape == graph.info(node.inputs[1]).shape else { return nil }
        return (aq, bq)
    }

    /// The operand holding codes and the other, a float constant of the output's shape or of its
    /// trailing dimensions (repeated over the leading ones, e.g. a position embedding over cameras).
    private func constantOperand(_ node: Node) -> (Int, Tensor)? {
        let shape = graph.info(node.output).shape
        for operand in 0..<2 {
            guard let constant = graph.floatConstant(node.inputs[1 - operand]),
                  graph.info(node.inputs[operand]).shape == shape else { continue }
            let trailing = Array(constant.shape.drop(while: { $0 == 1 }))
            guard trailing.count <= shape.count, Array(shape.suffix(trailing.count)) == trailing else { continue }
            return (operand, constant)
        }
        return nil
    }

    private func executeInteger(_ index: Int, _ node: Node) throws {
        // A per-patch Linear quantizes its f32 input itself.
        if node.op == .linear, try runLowBitLinear(index, node) { return }
        if let wide = wideNorms[index] { return runWideNorm(wide, node) }  // reads the add's operands, not its input
        let input = node.op == .softmax ? quantizedSoftmaxInput(node) : quantizedInput(node, operand: 0)
        let out = codes(node.output)
        let outShape = graph.info(node.output).shape
        switch Self.integerKernel(of: node) {
        case .linear:
            guard let linear = linears[index] else { return }
            if let split = headSplits[index], let outputs = headSplitOutputs[index] {
                linear.run(input, lda: linear.k, split: split, outputs: outputs, threads: threads)
                return
            }
            linear.run(input, m: graph.info(node.output).count / linear.n, lda: linear.k, into: out, ldc: linear.n, threads: threads)
        case .conv2d:
            guard let conv = convolutions[index] else { return }
            conv.run(input, inputShape: graph.info(node.inputs[0]).shape, into: out, outputShape: outShape,
                     scratch: scratch.pointer + scratchLayout.workOffset(node), threads: threads)
        case let .matmul(transposeB, alpha):
            let b = quantizedInput(node, operand: 1)
            let offset = scratchLayout.workOffset(node)
            guard case let .q8(outq) = formats[node.output.index] else { return }
            Int8MatMul.run(a: input, aShape: graph.info(node.inputs[0]).shape, aq: params(node.inputs[0]),
                           b: b, bShape: graph.info(node.inputs[1]).shape, bq: params(node.inputs[1]),
                           transposeB: transposeB, alpha: alpha, out: out, outq: outq,
                           fixedPoint: plan.recipe.requantization == .fixedPoint, stabilized: stabilizedValues.contains(node.output),
                           normalizesRows: deferredValues.contains(node.inputs[0]),
                           scratch: scratch.pointer + offset, threads: threads)
        case .softmax, .layerNorm:
            runNonlinear(index, node, input: input, work: scratch.pointer + scratchLayout.workOffset(node))
        case .causalConv1d:
            guard let conv = sequenceConvolutions[index] else { return }
            let shape = graph.info(node.inputs[0]).shape
            conv.run(input, batch: shape[0], length: shape[1], into: UnsafeMutableRawPointer(out), threads: threads)
        }
    }

    /// The head splits to run in place: integer Linears with u8 outputs whose reshape, permute and
    /// slices only move codes (their formats are the Linear's).
    private static func headSplits(_ graph: Graph, executions: [Execution], formats: [Format]) -> [Int: HeadSplit] {
        let readers = graph.readers
        var result: [Int: HeadSplit] = [:]
        for (index, node) in graph.nodes.enumerated() where executions[index] == .integer && node.op == .linear {
            guard case .q8 = formats[node.output.index],
                  let split = HeadSplit.find(in: graph, linear: index, readers: readers),
                  split.skippedNodes.allSatisfy({ executions[$0] == .movement || executions[$0] == .view }) else { continue }
            result[index] = split
        }
        return result
    }

    // MARK: - storage helpers

    /// Codes of a q8 value in the arena.
    func codes(_ id: ValueID) -> UnsafeMutablePointer<UInt8> {
        (arena.pointer + memoryPlan.offsets[id]!).assumingMemoryBound(to: UInt8.self)
    }

    /// f32 storage of a value that is kept in float, or a constant.
    func floats(_ id: ValueID) -> UnsafeMutablePointer<Float> {
        if let constant = constants[id.index] ?? graph.constants[id] { return constant.floatPointer }
        if let source = memoryPlan.constantViews[id], let constant = constants[source.index] ?? graph.floatConstant(source) {
            return constant.floatPointer
        }
        return (arena.pointer + memoryPlan.offsets[id]!).assumingMemoryBound(to: Float.self)
    }

    /// The integer ops whose outputs the float island computes a tile at a time; none when it reads all its operands stored.
    func tileProducers(of node: Node) -> [TileProducer] { tileProducers[node.output] ?? [] }

    /// Whether the value is held as u8 codes (not f32).
    func storesCodes(_ id: ValueID) -> Bool {
        if case .q8 = format(id) { return true }
        return false
    }

    func format(_ id: ValueID) -> Format {
        graph.constants[id] != nil || memoryPlan.constantViews[id] != nil ? .f32 : formats[id.index]
    }

    /// The value as stored (u8 codes or f32).
    func storedOperand(_ id: ValueID) -> Operand {
        let info = graph.info(id)
        if case .q8 = format(id) { return Operand(pointer: UnsafeMutableRawPointer(codes(id)), shape: info.shape, dtype: .u8) }
        return Operand(pointer: UnsafeMutableRawPointer(floats(id)), shape: info.shape, dtype: .f32)
    }

    private func storedBytes(_ id: ValueID) -> Int {
        if case .q8 = format(id) { return graph.info(id).count }
        return graph.info(id).byteCount
    }

    /// Codes of operand `i` of an integer op; an f32 value (from a kept-float op) is quantized
    /// into its scratch slot first.
    func quantizedInput(_ node: Node, operand i: Int) -> UnsafePointer<UInt8> {
        let id = node.inputs[i]
        if case .q8 = format(id) { return UnsafePointer(codes(id)) }
        let target = (scratch.pointer + scratchLayout.slotOffset(i, node: node)).assumingMemoryBound(to: UInt8.self)
        ActivationCodec.quantize(floats(id), into: target, count: graph.info(id).count, params(id), threads: threads)
        return UnsafePointer(target)
    }

    /// Dequantized copy of a value.
    func copyAsFloat(_ id: ValueID, into target: UnsafeMutablePointer<Float>) {
        let info = graph.info(id)
        switch format(id) {
        case let .q8(q):
            if let log = logCodes(id) {
                LogCodeTables.dequantize(codes(id), into: target, count: info.count, log)
                return
            }
            ActivationCodec.dequantize(codes(id), into: target, count: info.count, q, threads: threads)
            if deferredValues.contains(id), let width = info.shape.last {
                SoftmaxNormalization.normalizeRows(UnsafeMutableBufferPointer(start: target, count: info.count), width: width)
            }
        case .f32: target.update(from: floats(id), count: info.count)
        }
    }

    /// How tiles of a value are read and written as floats (`TileCodec`), resolved once.
    func tileCodec(_ id: ValueID) -> TileCodec {
        switch format(id) {
        case let .q8(q):
            let storage: TileCodec.Storage = logCodes(id).map { .logCodes(codes(id), $0) } ?? .codes(codes(id), q)
            return TileCodec(storage: storage, normalizedRowWidth: deferredValues.contains(id) ? graph.info(id).shape.last : nil)
        case .f32:
            return TileCodec(storage: .floats(floats(id)), normalizedRowWidth: nil)
        }
    }

    private func observe(_ id: ValueID) throws {
        guard let valueObserver, graph.info(id).dtype == .f32, !unstoredValues.contains(id.index) else { return }
        let count = graph.info(id).count
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { copyAsFloat(id, into: $0.baseAddress!) }
        try values.withUnsafeBufferPointer { try valueObserver(id, $0) }
    }
}
