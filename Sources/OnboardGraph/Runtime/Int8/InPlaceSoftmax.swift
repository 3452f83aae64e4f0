/// Integer softmaxes that write their codes over their input's. The kernels read a row's extremes
/// (and its sum) before they write any of its codes, and each code they write depends only on the
/// code at the same place and those, so they may run in place. Where the softmax is its input's
/// only reader, the memory planner gives the two values one buffer: attention logits and
/// probabilities (0.77 MB each in the Vim detector's cross-attention) are never live together.
enum InPlaceSoftmax {
    /// Softmax output -> the input whose bytes it takes. `excluded`: value indexes stored
    /// elsewhere or not at all (pinned, unstored, written early by another node).
    static func plan(in graph: Graph, executions: [Int8Executor.Execution], formats: [Int8Executor.Format],
                     excluded: Set<Int>) -> [ValueID: ValueID] {
        let readers = graph.readers, producers = graph.producers
        let boundary = Set((graph.inputs + graph.outputs).map(\.index))
        var result: [ValueID: ValueID] = [:]
        for (index, node) in graph.nodes.enumerated() where node.op == .softmax && executions[index] == .integer {
            guard let input = node.inputs.first, case .q8 = formats[input.index], case .q8 = formats[node.output.index],
                  graph.info(input).count == graph.info(node.output).count, readers[input.index] == [index],
                  let producer = producers[input], !graph.nodes[producer].op.isView,
                  !boundary.contains(input.index), !boundary.contains(node.output.index),
                  !excluded.contains(input.index), !excluded.contains(node.output.index) else { continue }
            result[node.output] = input
        }
        return result
    }
}
