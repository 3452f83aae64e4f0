import OnboardCore
import OnboardGraph
import OnboardTestSupport
import XCTest

final class ShapeInferenceTests: XCTestCase {
    func assertShapeError(_ op: Op, _ shapes: [[Int]], contains text: String, line: UInt = #line) {
        let g = GraphBuilder()
        let ids = shapes.enumerated().map { try! g.input("x\($0.offset)", shape: $0.element) }
        XCTAssertThrowsError(try g.node(op, ids, name: "bad"), line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("node 'bad'") && message.contains(text), message, line: line)
        }
    }

    func test_mismatchesAreRejectedWithTheNodeName() {
        assertShapeError(.linear, [[2, 5], [3, 4]], contains: "weight must be [N, 5]")
        assertShapeError(.linear, [[2, 4], [3, 4], [4]], contains: "bias must be [3]")
        assertShapeError(.matmul(transposeB: false), [[2, 3], [4, 5]], contains: "inner dimensions differ")
        assertShapeError(.matmul(transposeB: false), [[2, 2, 3], [3, 3, 5]], contains: "batch dimensions")
        assertShapeError(.add, [[2, 3], [4]], contains: "do not broadcast")
        assertShapeError(.reshape([7]), [[2, 3]], contains: "cannot reshape")
        assertShapeError(.permute([0, 0]), [[2, 3]], contains: "not a permutation")
        assertShapeError(.concat(axis: 0), [[2, 3], [2, 4]], contains: "differ outside axis 0")
        assertShapeError(.slice(axis: 1, start: 2, end: 5, step: 1), [[2, 3]], contains: "invalid for dimension 3")
        assertShapeError(.conv2d(Conv2dParams(stride: 1)), [[1, 3, 2, 2], [4, 3, 3, 3]], contains: "larger than padded input")
        assertShapeError(.conv2d(Conv2dParams(groups: 2)), [[1, 3, 8, 8], [4, 3, 3, 3]], contains: "groups")
        assertShapeError(.layerNorm(epsilon: 1e-5), [[2, 4], [3], [4]], contains: "weight and bias")
        assertShapeError(.softmax, [[2, 4], [4]], contains: "takes 1 inputs")
        assertShapeError(.gather, [[4, 2], [3]], contains: "indices must be i32 or i64")
    }

    func test_duplicateNamesAndEmptyGraphsAreRejected() throws {
        let g = GraphBuilder()
        let x = try g.input("x", shape: [2])
        XCTAssertThrowsError(try g.node(.relu, [x], name: "x"))
        XCTAssertThrowsError(try g.build())
    }
}

final class MemoryPlannerTests: XCTestCase {
    /// A graph with branches, views and a long-lived skip connection.
    func sampleGraph() throws -> Graph {
        let g = GraphBuilder()
        let x = try g.input("x", shape: [4, 64])
        var h = x
        var skips: [ValueID] = []
        for i in 0..<6 {
            let a = try g.node(.relu, [h], name: "relu\(i)")
            let v = try g.node(.reshape([256]), [a], name: "view\(i)")
            let s = try g.node(.scale(2), [v], name: "scale\(i)")
            h = try g.node(.reshape([4, 64]), [s], name: "back\(i)")
            if i % 2 == 0 { skips.append(h) }
        }
        for (i, skip) in skips.enumerated() { h = try g.node(.add, [h, skip], name: "skip\(i)") }
        g.markOutput(h)
        g.markOutput(skips[0])
        return try g.build()
    }

    func test_liveValuesNeverShareBytes() throws {
        let graph = try sampleGraph()
        let plan = MemoryPlanner.plan(graph)
        // Liveness from the graph itself: a value is live from its producer to its last reader
        // (through views); outputs to the end.
        var root: [ValueID: ValueID] = [:]
        for node in graph.nodes where node.op.isView { root[node.output] = root[node.inputs[0]] ?? node.inputs[0] }
        var first: [ValueID: Int] = [:], last: [ValueID: Int] = [:]
        for input in graph.inputs { first[input] = -1; last[input] = -1 }
        for (i, node) in graph.nodes.enumerated() {
            for operand in node.inputs { let r = root[operand] ?? operand; last[r] = max(last[r] ?? i, i) }
            let r = root[node.output] ?? node.output
            if first[r] == nil { first[r] = i }
            last[r] = max(last[r] ?? i, i)
        }
        for output in graph.outputs { last[root[output] ?? output] = graph.nodes.count }
        let roots = Array(first.keys)
        for a in roots {
            for b in roots where a < b {
                let overlapInTime = first[a]! <= last[b]! && first[b]! <= last[a]!
                let (oa, ob) = (plan.offsets[a]!, plan.offsets[b]!)
                let overlapInSpace = oa < ob + graph.info(b).byteCount && ob < oa + graph.info(a).byteCount
                XCTAssertFalse(overlapInTime && overlapInSpace, "\(graph.info(a).name) and \(graph.info(b).name) collide")
            }
        }
        // Views sit on their source.
        for node in graph.nodes where node.op.isView {
            XCTAssertEqual(plan.offsets[node.output], plan.offsets[node.inputs[0]])
        }
        // Reuse happened: the arena is smaller than all buffers side by side.
        let total = roots.reduce(0) { $0 + graph.info($1).byteCount }
        XCTAssertLessThan(plan.arenaBytes, total)
        XCTAssertEqual(plan.arenaBytes % 64, 0)
        XCTAssertEqual(plan.liveBytesPerNode.count, graph.nodes.count)
    }

    func test_executionThroughThePlanMatchesDirectEvaluation() throws {
        let graph = try sampleGraph()
        var random = TestRandom(seed: 3)
        let x = random.gaussian([4, 64])
        let out = try FP32Executor(graph: graph, threads: 2).run(["x": x])
        // relu then x2 six times; then adds of the skips (after blocks 0, 2, 4).
        var h = x.floats()
        var skips: [[Float]] = []
        for i in 0..<6 {
            h = h.map { max($0, 0) * 2 }
            if i % 2 == 0 { skips.append(h) }
        }
        for skip in skips { h = zip(h, skip).map(+) }
        XCTAssertEqual(out["skip2"]!.floats(), h)
        XCTAssertEqual(out["back0"]!.floats(), skips[0])
    }

    func test_executorRejectsMissingOrMisshapenInputs() throws {
        let graph = try sampleGraph()
        let executor = try FP32Executor(graph: graph, threads: 1)
        XCTAssertThrowsError(try executor.run([:])) { XCTAssertTrue("\($0)".contains("missing input 'x'")) }
        XCTAssertThrowsError(try executor.run(["x": Tensor(zeros: [4, 63])])) { XCTAssertTrue("\($0)".contains("expected f32 [4, 64]")) }
        XCTAssertThrowsError(try FP32Executor(graph: graph, threads: 0))
    }

    func test_profilerRecordsEveryNode() throws {
        let graph = try sampleGraph()
        let executor = try FP32Executor(graph: graph, threads: 1)
        let profiler = Profiler()
        executor.profiler = profiler
        _ = try executor.run(["x": Tensor(zeros: [4, 64])])
        XCTAssertEqual(profiler.records.count, graph.nodes.count)
        XCTAssertEqual(profiler.records.first { $0.node == "relu0" }?.bytes, 2 * 4 * 64 * 4)
        XCTAssertTrue(profiler.records.allSatisfy { $0.seconds >= 0 && $0.calls == 1 })
    }
}
