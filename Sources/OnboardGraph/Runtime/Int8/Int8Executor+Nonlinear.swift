import OnboardCore

/// The integer softmax and layernorm of an `Int8Executor`, the checks QANS needs of the plan, and
/// the quantization of a softmax input that arrives in float.
extension Int8Executor {
    func prepareNonlinear(planSource: String) throws {
        for id in stabilizedValues.sorted() {
            let q = params(id), name = graph.info(id).name
            guard q.zeroPoint == q.qmax else {
                throw OnboardError.format(path: planSource, item: name, reason: "softmax_input \"stabilized\" needs this tensor calibrated "
                    + "over [min, 0] (zero point at the top code), got zero point \(q.zeroPoint) of \(q.qmin)...\(q.qmax): recalibrate with this recipe")
            }
        }
        for id in deferredValues.sorted() where params(id) != SoftmaxNormalization.parameters {
            throw OnboardError.format(path: planSource, item: graph.info(id).name, reason: "softmax_output \"deferred\" needs this tensor's "
                + "parameters fixed at scale 1/255, zero point 0, got \(params(id)): recalibrate with this recipe")
        }
        for (index, node) in graph.nodes.enumerated() where executions[index] == .integer {
            guard case let .q8(output) = formats[node.output.index] else { continue }
            switch Self.integerKernel(of: node) {
            case .softmax where deferredValues.contains(node.output):
                deferredSoftmaxes[index] = DeferredSoftmax(input: params(node.inputs[0]))
            case .softmax:
                integerSoftmaxes[index] = try IntegerSoftmax(input: params(node.inputs[0]), output: output, node: node.name)
            case let .layerNorm(epsilon):
                guard let gamma = graph.floatConstant(node.inputs[1]), let beta = graph.floatConstant(node.inputs[2]) else { continue }
                guard wideNorms[index] == nil else { continue }
                integerNorms[index] = try gamma.withFloats { g in
                    try beta.withFloats { b in
                        try IntegerLayerNorm(gamma: g, beta: b, epsilon: epsilon, input: params(node.inputs[0]), output: output, node: node.name)
                    }
                }
            case .linear, .conv2d, .matmul, .causalConv1d:
                break
            }
        }
    }

    /// Softmax or layernorm of node `index` on the codes `input` (rows over the last axis);
    /// `work` is the node's work area (layernorm: `IntegerLayerNorm.workBytes` per thread).
    func runNonlinear(_ index: Int, _ node: Node, input: UnsafePointer<UInt8>, work: UnsafeMutableRawPointer) {
        let shape = graph.info(node.inputs[0]).shape
        guard let width = shape.last, width > 0 else { return }
        let rows = shape.reduce(1, *) / width
        let out = codes(node.output)
        let workers = max(1, min(threads, rows * width / 4096))
        Parallel.forRanges(count: workers, threads: workers) { range in
            for worker in range {
                let mine = (rows * worker / workers)..<(rows * (worker + 1) / workers)
                if let softmax = deferredSoftmaxes[index] {
                    softmax.run(input, out, rows: mine, width: width)
                } else if let softmax = integerSoftmaxes[index] {
                    softmax.run(input, out, rows: mine, width: width)
                } else if let norm = integerNorms[index] {
                    norm.run(input, out, rows: mine, work: work + worker * IntegerLayerNorm.workBytes(width: width))
                }
            }
        }
    }

    /// A layernorm that forms its residual sum at 16 bits from the add's operands (`WideResidualNorm`).
    func runWideNorm(_ wide: WideResidualNorm, _ node: Node) {
        let shape = graph.info(node.inputs[0]).shape
        guard let width = shape.last, width > 0 else { return }
        let rows = shape.reduce(1, *) / width
        let (a, b, out) = (codes(wide.a), codes(wide.b), codes(node.output))
        let workers = max(1, min(threads, rows * width / 4096))
        Parallel.forRanges(count: workers, threads: workers) { range in
            for worker in range { wide.run(a, b, out, rows: (rows * worker / workers)..<(rows * (worker + 1) / workers)) }
        }
    }

    /// Codes of a softmax input; an f32 input whose parameters are those of stabilized logits
    /// ([min, 0], zero point at the top: its matmul was stabilized when calibrated and is kept in
    /// float now, as `compare --exclude` does) is stabilized as it is quantized.
    func quantizedSoftmaxInput(_ node: Node) -> UnsafePointer<UInt8> {
        let id = node.inputs[0], q = params(id)
        guard case .f32 = format(id), q.zeroPoint == q.qmax, let width = graph.info(id).shape.last, width > 0 else {
            return quantizedInput(node, operand: 0)
        }
        let source = floats(id), count = graph.info(id).count
        let target = (scratch.pointer + scratchLayout.slotOffset(0, node: node)).assumingMemoryBound(to: UInt8.self)
        for start in stride(from: 0, to: count, by: width) {
            var top = -Float.infinity
            for j in 0..<width { top = max(top, source[start + j]) }
            for j in 0..<width {
                let code = ((source[start + j] - top) / q.scale).rounded(.toNearestOrEven) + Float(q.zeroPoint)
                target[start + j] = UInt8(code >= Float(q.qmin) ? code : Float(q.qmin))  // <= zero point = qmax
            }
        }
        return UnsafePointer(target)
    }
}
