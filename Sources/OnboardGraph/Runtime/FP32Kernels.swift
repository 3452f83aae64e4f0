import OnboardCore

/// The FP32 kernel of every op (`OpDefinition.run`): the executable definition of the IR.
enum FP32Kernels {
    static func scratchBytes(_ node: Node, _ graph: Graph, threads: Int) -> Int {
        node.op.definition.scratchBytes(inputs: node.inputs.map { graph.info($0).shape }, output: graph.info(node.output).shape,
                                        threads: threads)
    }

    static func run(_ node: Node, _ inputs: [Operand], _ output: Operand, _ context: KernelContext) throws {
        try node.op.definition.run(inputs, output, context, node: node.name)
    }
}
