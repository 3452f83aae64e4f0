import OnboardCore

/// The integer kernels of the INT8 executor, named by the op that has one
/// (`QuantizationTraits.Form.integerKernel`). A new case needs a line in each switch here and in
/// the executor's (`prepareWeights`, `prepareNonlinear`, `executeInteger`).
enum IntegerKernel: Equatable {
    case linear
    case conv2d(Conv2dParams)
    case matmul(transposeB: Bool, alpha: Float)
    case softmax
    case layerNorm(epsilon: Float)
    case causalConv1d(reverse: Bool)

    /// Whether `node` runs on this kernel under `recipe`, given which of its operands are constants;
    /// it is a float island otherwise.
    func runs(_ node: Node, graph: Graph, recipe: QuantizationRecipe) -> Bool {
        let constant = { (i: Int) in i < node.inputs.count && graph.constants[node.inputs[i]] != nil }
        switch self {
        case .linear: return constant(1) && !constant(0)
        case let .conv2d(p):
            // A depthwise convolution has 9 or 25 products per output: the direct float kernel is
            // faster than a GEMM per channel, so it runs as a float island.
            let shapes = node.inputs.prefix(2).map { graph.info($0).shape }
            return constant(1) && !constant(0) && !Conv2dOp.isDepthwise(input: shapes[0], weight: shapes[1], p)
        case .matmul: return !constant(0) && !constant(1)
        case .softmax: return recipe.integerSoftmax && !constant(0)
        case .layerNorm:
            let width = graph.info(node.inputs[0]).shape.last ?? 0
            return recipe.layerNorm == .integer && !constant(0) && constant(1) && constant(2) && width <= IntegerLayerNorm.maxWidth
        case .causalConv1d: return !constant(0) && constant(1) && constant(2)
        }
    }

    /// Bytes of the kernel's work area, which follows the slots for quantizing float operands
    /// (`ScratchLayout.workOffset`).
    func workBytes(_ node: Node, graph: Graph, threads: Int, stabilized: Bool, normalizesRows: Bool) -> Int {
        let shapes = node.inputs.map { graph.info($0).shape }
        switch self {
        case .linear, .softmax, .causalConv1d:
            return 0
        case let .conv2d(p):
            return Int8Conv2d.scratchBytes(inputShape: shapes[0], weightShape: shapes[1], outputShape: graph.info(node.output).shape,
                                           groups: p.groups)
        case let .matmul(transposeB, _):
            let a = shapes[0], b = shapes[1]
            let n = transposeB ? b[b.count - 2] : b[b.count - 1]
            return Int8MatMul.scratchBytes(m: a[a.count - 2], n: n, k: a[a.count - 1], threads: threads,
                                           stabilized: stabilized, normalizesRows: normalizesRows)
        case .layerNorm:
            return threads * IntegerLayerNorm.workBytes(width: shapes[0].last ?? 0)
        }
    }
}
