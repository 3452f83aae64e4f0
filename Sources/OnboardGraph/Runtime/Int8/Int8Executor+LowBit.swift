import OnboardCore
import OnboardQuant

/// The INT8 executor's low-bit Linears (a recipe's `low_bit` part): 4-bit packed weights, CFWS
/// weights, per-patch, per-token dynamic and Shift-Log2 inputs.
extension Int8Executor {
    /// Bytes held for the Linears of the recipe's `low_bit` part; nil without one.
    public var lowBitWeightBytes: Int? {
        guard plan.recipe.lowBit != nil else { return nil }
        return lowBitLayout.linears.reduce(0) { $0 + (lowBitLinears[$1]?.byteCount ?? linears[$1]?.byteCount ?? 0) }
    }

    /// The fraction of per-patch input values kept in float as outliers, over every run so far
    /// (nil before any, or without per-patch inputs).
    public var lowBitOutlierFraction: Double? {
        let total = lowBitLinears.values.reduce(0) { $0 + $1.perTokenCount }
        return total == 0 ? nil : Double(lowBitLinears.values.reduce(0) { $0 + $1.outlierCount }) / Double(total)
    }

    /// The Shift-Log2 parameters of a value stored as log codes, else nil.
    func logCodes(_ id: ValueID) -> LogCodeQuant? {
        lowBitLayout.logValues.contains(id.index) ? plan.logCodes?[graph.info(id).name] : nil
    }

    /// An in-scope weight's codes at the `low_bit` bits, per output channel (or per group of its
    /// inputs): as stored when a quantized bundle holds it so already, else quantized now (once per
    /// weight cache: a sentence encoder's executors at several lengths share it).
    func lowBitWeight(_ id: ValueID) -> QuantizedWeight? {
        guard let lowBit = plan.recipe.lowBit, let tensor = graph.constants[id], let rows = tensor.shape.first, rows > 0 else { return nil }
        let scaleCount = lowBit.weightGroupSize.map { rows * (tensor.count / rows / $0) } ?? rows
        if tensor.dtype == .i8, let scales = graph.weightScales[id], scales.count == scaleCount,
           lowBit.weightBits == 8 || QuantizedWeight(codes: tensor, scales: scales).fitsFourBits {
            return QuantizedWeight(codes: tensor, scales: scales)
        }
        guard let weight = graph.floatConstant(id) else { return nil }
        let quantize = {
            QuantizedWeight(quantizing: weight, perChannel: true, clip: lowBit.weightClip, bits: lowBit.weightBits,
                            groupSize: lowBit.weightGroupSize, threads: self.threads)
        }
        return weightCache?.value(graph.info(id).name, make: quantize) ?? quantize()
    }

    func prepareLowBitLinear(_ index: Int, _ node: Node, input: ActivationQuant, output: ActivationQuant, fixedPoint: Bool) throws {
        let shape = graph.info(node.inputs[1]).shape
        guard let lowBit = plan.recipe.lowBit, graph.constants[node.inputs[1]] != nil, shape.count == 2 else {
            throw OnboardError.invalidArgument("\(node.name): a low-bit Linear needs a constant weight [N, K]")
        }
        let n = shape[0], k = shape[1]
        let bias = node.inputs.count == 3 ? graph.constants[node.inputs[2]] : nil
        guard bias.map({ $0.count == n }) ?? true else {
            throw OnboardError.invalidArgument("\(node.name): a low-bit Linear takes a bias of one value per output, got \(bias?.count ?? 0)")
        }
        let source = node.inputs[0]
        let log = logCodes(source)
        let floatOutput = !storesCodes(node.output)
        let biasPointer = bias.map { UnsafePointer($0.floatPointer) }
        guard lowBitLayout.rowEpilogueLinears(in: graph, recipe: plan.recipe).contains(index) else {
            guard let codes = lowBitWeight(node.inputs[1]) else { throw OnboardError.invalidArgument("\(node.name): no weight to quantize") }
            let linear = Int8Linear(codes: codes.codes.rawPointer.assumingMemoryBound(to: Int8.self), scales: codes.scales, n: n, k: k,
                                    bias: biasPointer, weightBits: lowBit.weightBits,
                                    input: log.map { ActivationQuant(scale: $0.productScale, zeroPoint: 0) } ?? input,
                                    inputOffset: log?.shift, output: output, fixedPoint: fixedPoint, floatOutput: floatOutput)
            if let log { logInputTables[index] = LogCodeTables.product(log) }
            linears[index] = linear
            graph.constants[node.inputs[1]]?.releaseMappedPages()
            weightBytes += linear.byteCount
            return
        }
        guard lowBit.cfwsFraction == nil || lowBit.weightGroupSize == nil else {
            throw OnboardError.invalidArgument("\(node.name): the low_bit keys cfws_fraction and weight_group_size exclude each other")
        }
        var fineCodes: [Int8], fineScales: [Float], coarse: LowBitLinear.Coarse?
        if let fraction = lowBit.cfwsFraction, let weight = graph.floatConstant(node.inputs[1]) {
            let values = Array(UnsafeBufferPointer(start: weight.floatPointer, count: weight.count))
            guard k <= Int(UInt16.max) + 1 else {
                throw OnboardError.invalidArgument("\(node.name): CFWS takes at most 65536 inputs, got \(k)")
            }
            let split = try CFWS.splitLinear(values, rows: n, columns: k, bits: lowBit.weightBits, fraction: fraction,
                                             mseClip: lowBit.weightClip == .mse, item: node.name)
            (fineCodes, fineScales, coarse) = (split.fineCodes, split.fineScales, Self.coarse(split, n: n, k: k))
        } else if let codes = lowBitWeight(node.inputs[1]) {
            fineCodes = Array(UnsafeBufferPointer(start: codes.codes.rawPointer.assumingMemoryBound(to: Int8.self), count: codes.codes.count))
            (fineScales, coarse) = (codes.scales, nil)
        } else {
            throw OnboardError.invalidArgument("\(node.name): no weight to quantize")
        }
        let linearInput: LowBitLinear.Input
        if lowBit.dynamicPerToken {
            linearInput = .dynamicPerToken(bits: lowBit.activationBits)
        } else if let perToken = plan.perToken?[graph.info(source).name], lowBitLayout.perPatchValues.contains(source.index) {
            linearInput = .perToken(perToken)
        } else if let log {
            linearInput = .logCodes(table: LogCodeTables.product(log), scale: log.productScale, offset: log.shift)
        } else {
            linearInput = .codes(input)
        }
        let linear = fineCodes.withUnsafeBufferPointer { codes in
            codes.baseAddress.map {
                LowBitLinear(fineCodes: $0, fineScales: fineScales, weightBits: lowBit.weightBits, coarse: coarse, n: n, k: k,
                             groupSize: lowBit.weightGroupSize ?? k, bias: biasPointer, input: linearInput, output: floatOutput ? nil : output)
            }
        }
        guard let linear else { throw OnboardError.invalidArgument("\(node.name): a low-bit Linear needs a non-empty weight") }
        lowBitLinears[index] = linear
        graph.constants[node.inputs[1]]?.releaseMappedPages()
        weightBytes += linear.byteCount
    }

    /// The coarse part by output column (the weight's rows), the order the row pass reads it in.
    private static func coarse(_ split: CFWS.SparseSplit, n: Int, k: Int) -> LowBitLinear.Coarse {
        let byColumn = split.coarse.sorted { ($0.row, $0.column) < ($1.row, $1.column) }
        var start = [Int32](repeating: 0, count: n + 1)
        for entry in byColumn { start[entry.row + 1] += 1 }
        for j in 0..<n { start[j + 1] += start[j] }
        return LowBitLinear.Coarse(columnStart: start, depths: byColumn.map { UInt16($0.column) }, codes: byColumn.map(\.code),
                                   scales: split.coarseScales)
    }

    /// Runs an in-scope Linear that needs more than `Int8Linear`'s own run; false for the others.
    func runLowBitLinear(_ index: Int, _ node: Node) throws -> Bool {
        let work = scratch.pointer + scratchLayout.workOffset(node)
        let out = storesCodes(node.output) ? UnsafeMutableRawPointer(codes(node.output)) : UnsafeMutableRawPointer(floats(node.output))
        if let linear = lowBitLinears[index] {
            let m = graph.info(node.output).count / linear.n
            if !linear.input.readsFloat {
                linear.run(quantizedInput(node, operand: 0), m: m, into: out, work: work, threads: threads)
            } else if storesCodes(node.inputs[0]) {
                // Codes an integer op wrote: their values, each row then quantized by the Linear.
                let values = work.assumingMemoryBound(to: Float.self)
                copyAsFloat(node.inputs[0], into: values)
                linear.run(values, m: m, into: out, work: work + MemoryPlanner.align(m * linear.k * 4), threads: threads)
            } else {
                linear.run(floats(node.inputs[0]), m: m, into: out, work: work, threads: threads)
            }
            return true
        }
        if let table = logInputTables[index], let linear = linears[index] {
            let count = graph.info(node.inputs[0]).count
            let mapped = work.assumingMemoryBound(to: UInt8.self)
            QuantizedElementwise.lookup(quantizedInput(node, operand: 0), mapped, count: count, table: table, threads: threads)
            linear.run(mapped, m: count / linear.k, lda: linear.k, into: out, ldc: linear.n, threads: threads)
            return true
        }
        return false
    }
}

extension LowBitLayout {
    /// The in-scope Linears that run as `LowBitLinear`: per-patch or per-token dynamic inputs, CFWS or grouped weights.
    func rowEpilogueLinears(in graph: Graph, recipe: QuantizationRecipe) -> Set<Int> {
        guard let lowBit = recipe.lowBit else { return [] }
        if lowBit.cfwsFraction != nil || lowBit.dynamicPerToken || lowBit.weightGroupSize != nil { return linears }
        return linears.filter { perPatchValues.contains(graph.nodes[$0].inputs[0].index) }
    }

    /// Work bytes an in-scope Linear needs beyond the executor's operand slots.
    func workBytes(node index: Int, graph: Graph, recipe: QuantizationRecipe, rowEpilogue: Bool) -> Int {
        guard linears.contains(index) else { return 0 }
        let node = graph.nodes[index]
        let input = graph.info(node.inputs[0]), output = graph.info(node.output)
        guard let k = input.shape.last, k > 0, let n = output.shape.last, n > 0 else { return 0 }
        // A dynamic Linear may first dequantize an integer op's codes.
        let dequantized = recipe.lowBit?.dynamicPerToken == true ? MemoryPlanner.align(input.count * 4) : 0
        if rowEpilogue {
            let groups = recipe.lowBit?.weightGroupSize.map { k / $0 } ?? 1
            return dequantized + LowBitLinear.workBytes(m: output.count / n, n: n, k: k, groups: groups)
        }
        return logValues.contains(node.inputs[0].index) ? input.count : 0
    }
}
