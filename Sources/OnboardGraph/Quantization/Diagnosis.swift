import OnboardCore
import OnboardQuant

/// Where INT8 error comes from, tensor by tensor: each computed tensor of the INT8 run compared
/// with FP32, both accumulated (the whole graph in INT8) and isolated (only that op quantized,
/// on exact FP32 inputs: inputs, weights and output fake-quantized with the plan's parameters).
/// Logits the executor stores stabilized (QANS, `SoftmaxStabilization`) are compared as such: the
/// FP32 reference has each row's max subtracted (and is raised to the recipe's `-softmax_clip`: a
/// logit below it weighs at most e^-clip in the softmax, whose own row measures that effect, so
/// the logits' row shows their quantization error where it matters), and the isolated model
/// subtracts the max from the float product before fake-quantizing, as the executor's epilogue does.
/// Softmax outputs stored with deferred normalization are compared as the probabilities they stand
/// for, and fake-quantized as the executor represents them (`SoftmaxNormalization.fakeQuantize`).
/// Ranges cut for their saturating readers (`ConsumerClipping`) are compared with the FP32 values
/// clamped to the cut, which is all those readers can see.
/// Integer softmax and layernorm are modelled by the float op with fake-quantized input and output
/// (they stay within one code of it).
public enum QuantizationDiagnosis {
    public struct Metrics: Codable, Equatable, Sendable {
        /// 20·log10(|x| / |x - y|) in dB (+inf when equal). All three figures are rounded as reported
        /// (`QuantMetrics.reported`), so that tensors sort by exactly the value a report shows.
        public let sqnr: Double
        public let cosine: Double
        public let maxError: Double

        enum CodingKeys: String, CodingKey { case sqnr = "sqnr_db", cosine, maxError = "max_error" }

        public init(_ reference: UnsafeBufferPointer<Float>, _ test: UnsafeBufferPointer<Float>) {
            sqnr = QuantMetrics.reported(QuantMetrics.sqnr(reference, test))
            cosine = QuantMetrics.reported(QuantMetrics.cosine(reference, test))
            maxError = QuantMetrics.reported(zip(reference, test).reduce(0) { max($0, Double(abs($1.0 - $1.1))) })
        }
    }

    public struct TensorReport: Codable, Sendable {
        public let name: String
        public let op: String
        public let execution: String
        public let accumulated: Metrics
        public let isolated: Metrics
    }

    /// - Parameters:
    ///   - reference: the float graph; `quantized`: the same graph as the INT8 executor runs it.
    /// - Returns: one report per computed tensor, worst accumulated SQNR first.
    public static func compare(
        reference: Graph, quantized given: Int8Executor, inputs: [String: Tensor], threads: Int
    ) throws -> [TensorReport] {
        // Heads written in place leave the Linear outputs and head-split permutes unstored: observe them stored.
        let quantized = given.inPlaceHeadSplits.isEmpty ? given
            : try Int8Executor(graph: given.graph, plan: given.plan, threads: given.threads, splitsHeadsInPlace: false)
        var floatValues: [String: [Float]] = [:]
        let fp32 = try FP32Executor(graph: reference, threads: threads)
        fp32.valueObserver = { id, values in floatValues[reference.info(id).name] = Array(values) }
        _ = try fp32.run(inputs)
        for id in quantized.stabilizedValues {
            let info = reference.info(id)
            guard let width = info.shape.last, let values = floatValues[info.name] else { continue }
            floatValues[info.name] = values.withUnsafeBufferPointer {
                SoftmaxStabilization.stabilized($0, width: width, clip: quantized.plan.recipe.softmaxClip)
            }
        }

        for index in ConsumerClipping.clippedValues(in: quantized.graph, recipe: quantized.plan.recipe) {
            let name = quantized.graph.values[index].name
            guard let (low, high) = quantized.plan.activations[name]?.representableRange, let values = floatValues[name] else { continue }
            floatValues[name] = values.map { min(max($0, low), high) }
        }

        var reports: [TensorReport] = []
        var accumulated: [String: Metrics] = [:]
        let graph = quantized.graph
        quantized.valueObserver = { id, values in
            let name = graph.info(id).name
            guard let exact = floatValues[name] else { return }
            accumulated[name] = exact.withUnsafeBufferPointer { Metrics($0, values) }
        }
        _ = try quantized.run(inputs)
        quantized.valueObserver = nil

        let scratch = AlignedBuffer(byteCount: graph.nodes.map { FP32Kernels.scratchBytes($0, graph, threads: threads) }.max() ?? 0)
        for (index, node) in graph.nodes.enumerated() where !node.op.isView {
            let name = graph.info(node.output).name
            guard let exact = floatValues[name], let total = accumulated[name] else { continue }
            let isolated = try isolatedOutput(node, execution: quantized.executions[index], executor: quantized,
                                              floatValues: floatValues, scratch: scratch, threads: threads)
            let metrics = exact.withUnsafeBufferPointer { e in isolated.withUnsafeBufferPointer { Metrics(e, $0) } }
            reports.append(TensorReport(name: name, op: node.op.kind, execution: quantized.executions[index].rawValue,
                                        accumulated: total, isolated: metrics))
        }
        return reports.sorted { ($0.accumulated.sqnr, $0.name) < ($1.accumulated.sqnr, $1.name) }
    }

    /// The node alone under the plan, on exact inputs.
    private static func isolatedOutput(
        _ node: Node, execution: Int8Executor.Execution, executor: Int8Executor,
        floatValues: [String: [Float]], scratch: AlignedBuffer, threads: Int
    ) throws -> [Float] {
        let graph = executor.graph
        let quantizes = execution != .keptFloat && execution != .precomputed
        var buffers: [Tensor] = []
        for (position, id) in node.inputs.enumerated() {
            let info = graph.info(id)
            if let constant = graph.floatConstant(id) {
                // Integer ops see their weight as the int8 codes stand for it.
                let isWeight = execution == .integer && position == 1
                buffers.append(isWeight && constant.dtype == .f32 && graph.constants[id]?.dtype == .f32
                    ? QuantizedWeight(quantizing: constant, perChannel: executor.plan.recipe.weights == .perChannel,
                                      clip: executor.plan.recipe.weightClip, bits: executor.plan.recipe.weightBits,
                                      threads: executor.threads).dequantized()
                    : constant)
                continue
            }
            let values = floatValues[info.name] ?? [Float](repeating: 0, count: info.count)
            let tensor = try Tensor(shape: info.shape, values: values)
            // An integer op quantizes an f32 operand on entry; a float island reads it as it is.
            if quantizes && (execution == .integer || executor.storesCodes(id)) { fakeQuantize(tensor, id, executor: executor) }
            buffers.append(tensor)
        }
        let info = graph.info(node.output)
        let output = Tensor(zeros: info.shape)
        let operands = buffers.map { Operand(pointer: $0.rawPointer, shape: $0.shape, dtype: $0.dtype) }
        try FP32Kernels.run(node, operands, Operand(pointer: output.rawPointer, shape: info.shape, dtype: .f32),
                            KernelContext(threads: threads, scratch: scratch.pointer))
        if executor.stabilizedValues.contains(node.output), let width = info.shape.last {
            SoftmaxStabilization.subtractRowMax(UnsafeMutableBufferPointer(start: output.floatPointer, count: output.count), width: width)
        }
        if executor.storesCodes(node.output) { fakeQuantize(output, node.output, executor: executor) }
        return output.floats()
    }

    private static func fakeQuantize(_ tensor: Tensor, _ id: ValueID, executor: Int8Executor) {
        let info = executor.graph.info(id)
        if executor.deferredValues.contains(id), let width = info.shape.last {
            SoftmaxNormalization.fakeQuantize(UnsafeMutableBufferPointer(start: tensor.floatPointer, count: tensor.count), width: width)
        } else if let params = executor.plan.activations[info.name] {
            fakeQuantize(tensor, params)
        }
    }

    private static func fakeQuantize(_ tensor: Tensor, _ q: ActivationQuant) {
        guard tensor.count > 0 else { return }
        let codes = [UInt8](unsafeUninitializedCapacity: tensor.count) { buffer, count in
            ActivationCodec.quantize(tensor.floatPointer, into: buffer.baseAddress!, count: tensor.count, q, threads: 1)
            count = tensor.count
        }
        codes.withUnsafeBufferPointer { ActivationCodec.dequantize($0.baseAddress!, into: tensor.floatPointer, count: tensor.count, q, threads: 1) }
    }
}
