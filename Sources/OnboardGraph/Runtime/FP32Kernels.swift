import OnboardCore

/// The FP32 kernel of every op: the executable definition of the IR.
enum FP32Kernels {
    static func scratchBytes(_ node: Node, _ graph: Graph, threads: Int) -> Int {
        let shapes = node.inputs.map { graph.info($0).shape }
        switch node.op {
        case let .conv2d(params):
            return Conv2dOp.scratchBytes(inputShapes: shapes, output: graph.info(node.output).shape, params: params)
        case let .deformConv2d(params, _):
            return DeformConv2dOp.scratchBytes(inputShapes: shapes, output: graph.info(node.output).shape, params: params)
        case let .matmul(transposeB, _):
            return MatMulOp.scratchBytes(inputShapes: shapes, transposeB: transposeB, threads: threads)
        default:
            return 0
        }
    }

    static func run(_ node: Node, _ inputs: [Operand], _ output: Operand, _ context: KernelContext) throws {
        switch node.op {
        case .linear: LinearOp.run(inputs, output, context)
        case let .matmul(transposeB, alpha): MatMulOp.run(inputs, output, transposeB: transposeB, alpha: alpha, context)
        case let .conv2d(params): Conv2dOp.run(inputs, output, params: params, context)
        case let .layerNorm(epsilon): LayerNormOp.run(inputs, output, epsilon: epsilon, context)
        case .softmax: SoftmaxOp.run(inputs, output, context)
        case .hardSigmoid: HardSigmoidOp.run(inputs, output, context)
        case .gelu, .relu, .sigmoid, .silu, .scale: ActivationOp.run(node.op, inputs, output, context)
        case .add, .sub, .mul, .div: BinaryOp.run(node.op, inputs, output, context)
        case .reshape:
            if output.pointer != inputs[0].pointer {
                output.pointer.copyMemory(from: inputs[0].pointer, byteCount: output.count * output.dtype.byteSize)
            }
        case let .permute(permutation): MovementOps.permute(inputs[0], output, permutation: permutation, context)
        case let .concat(axis): MovementOps.concat(inputs, output, axis: axis)
        case let .slice(axis, start, _, step): MovementOps.slice(inputs[0], output, axis: axis, start: start, step: step)
        case .gather: try GatherOp.run(inputs, output, node: node.name)
        case let .reduceMean(axis, _): ReduceMeanOp.run(inputs[0], output, axis: axis)
        case let .deformConv2d(params, deformGroups): DeformConv2dOp.run(inputs, output, params: params, deformGroups: deformGroups, context)
        case let .maxPool2d(params): MaxPool2dOp.run(inputs[0], output, params: params, context)
        case .upsampleNearest: UpsampleNearestOp.run(inputs[0], output, context)
        }
    }
}
