import OnboardCore
import OnboardGraph

/// Per-op times (median over runs) joined with the memory plan's live bytes, in execution order.
public enum OpTimeline {
    public static func measure(_ runner: any GraphRunner, inputs: [String: Tensor], runs: Int, warmup: Int)
        throws -> (ops: [ProfileReport.OpRow], medianMs: Double) {
        let graph = runner.graph
        let plan = runner.memoryPlan
        for _ in 0..<warmup { _ = try runner.run(inputs) }
        let profiler = Profiler()
        runner.profiler = profiler
        var secondsByNode: [String: [Double]] = [:]
        var totals: [Double] = []
        for _ in 0..<runs {
            profiler.reset()
            let start = ProcessStats.seconds()
            _ = try runner.run(inputs)
            totals.append((ProcessStats.seconds() - start) * 1000)
            for record in profiler.records { secondsByNode[record.node, default: []].append(record.seconds) }
        }
        guard plan.liveBytesPerNode.count == graph.nodes.count, plan.scratchBytesPerNode.count == graph.nodes.count else {
            throw OnboardError.model(item: "memory plan", reason: "\(plan.liveBytesPerNode.count) live sizes for \(graph.nodes.count) nodes")
        }
        let ops = graph.nodes.enumerated().map { index, node in
            let live = plan.liveBytesPerNode[index]
            let ms = (secondsByNode[node.name].map { TimingSummary($0).median } ?? 0) * 1000
            return ProfileReport.OpRow(name: node.name, kind: node.op.kind, ms: ms, liveBytes: live,
                                       scratchBytes: plan.scratchBytesPerNode[index], totalBytes: live + runner.weightBytes)
        }
        return (ops, TimingSummary(totals).median)
    }
}
