import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Ops on constants alone run once when the INT8 executor is built, exactly in FP32; what the
/// remaining ops read of them is stored as codes for the whole run.
final class ConstantSubgraphTests: XCTestCase {
    /// query = linear(embedding) -> layernorm (constants only); scores = query · xᵀ; out = scores + query-derived bias.
    func makeGraph(_ random: inout TestRandom) throws -> Graph {
        let g = GraphBuilder()
        let x = try g.input("x", shape: [10, 16])
        let embedding = try g.constant("embedding", random.gaussian([6, 16], scale: 2))
        let projected = try g.node(.linear, [embedding, try g.constant("proj.weight", random.gaussian([16, 16], scale: 0.4))],
                                   name: "proj")
        let query = try g.node(.layerNorm(epsilon: 1e-5), [projected, try g.constant("ln.weight", Tensor(shape: [16], values: Array(repeating: 1, count: 16))),
                                                           try g.constant("ln.bias", Tensor(zeros: [16]))], name: "ln")
        let flat = try g.node(.reshape([96]), [query], name: "ln.flat")
        let scores = try g.node(.matmul(transposeB: true, alpha: 0.25), [query, x], name: "scores")
        g.markOutput(scores)
        g.markOutput(try g.node(.reshape([6, 16]), [flat], name: "ln.back"))
        return try g.build()
    }

    func test_opsOnConstantsAreComputedOnceAndTheirReadValuesPinned() throws {
        var random = TestRandom(seed: 21)
        let graph = try makeGraph(&random)
        let samples = (0..<4).map { _ in ["x": random.gaussian([10, 16])] }
        let plan = try Calibrator.calibrate(graph: graph, recipe: QuantizationRecipe(), count: 4, threads: 1) { samples[$0] }
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        XCTAssertEqual(executor.precomputedOps, ["proj", "ln"])
        XCTAssertEqual(executor.floatOps, [])
        XCTAssertEqual(executor.integerOps, ["scores"])
        // The layernorm output is read by the run-time matmul and is a graph output (through views).
        XCTAssertEqual(executor.pinnedValues.map { graph.info($0).name }, ["ln"])

        let input = ["x": random.gaussian([10, 16])]
        let reference = try FP32Executor(graph: graph, threads: 1).run(input)
        let int8 = try executor.run(input)
        // The pinned value is the exact FP32 one, quantized once.
        let q = try XCTUnwrap(plan.activations["ln"])
        let exact = try XCTUnwrap(reference["ln.back"]).floats(), stored = try XCTUnwrap(int8["ln.back"]).floats()
        XCTAssertLessThanOrEqual(zip(exact, stored).map { abs($0 - $1) }.max() ?? 99, 0.501 * q.scale)
        // Running twice gives the same outputs: nothing overwrote the pinned codes.
        XCTAssertEqual(try XCTUnwrap(try executor.run(input)["scores"]).floats(), try XCTUnwrap(int8["scores"]).floats())
    }

    /// A bundle quantized before its constant-only ops were precomputed holds their weights as int8
    /// codes: the precompute reads them dequantized, a copy that must outlive the kernel's run.
    func test_precomputedOpsReadInt8WeightsDequantized() throws {
        var random = TestRandom(seed: 8)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [10, 16])
        let codes = (0..<256).map { _ in Int8(random.int(in: -127...127)) }
        let weight = try g.constant("proj.weight", Tensor(shape: [16, 16], dtype: .i8, integers: codes), scales: [0.01])
        let embedding = try g.constant("embedding", random.gaussian([16, 16], scale: 2))
        let query = try g.node(.linear, [embedding, weight], name: "proj")
        g.markOutput(try g.node(.matmul(transposeB: true, alpha: 0.25), [query, x], name: "scores"))
        let graph = try g.build()
        let samples = (0..<4).map { _ in ["x": random.gaussian([10, 16])] }
        let plan = try Calibrator.calibrate(graph: graph, recipe: QuantizationRecipe(), count: 4, threads: 1) { samples[$0] }
        let input = ["x": random.gaussian([10, 16])]
        let reference = try XCTUnwrap(try FP32Executor(graph: graph, threads: 1).run(input)["scores"]).floats()
        let q = try XCTUnwrap(plan.activations["scores"])
        for _ in 0..<3 {
            let executor = try Int8Executor(graph: graph, plan: plan, threads: 1)
            XCTAssertEqual(executor.precomputedOps, ["proj"])
            let scores = try XCTUnwrap(try executor.run(input)["scores"]).floats()
            XCTAssertLessThanOrEqual(zip(reference, scores).map { abs($0 - $1) }.max() ?? 99, 4 * q.scale)
        }
    }

    func test_noConstantOnlyOpsLeavesTheGraphAsItWas() throws {
        var random = TestRandom(seed: 3)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [4, 8])
        g.markOutput(try g.node(.linear, [x, try g.constant("w", random.gaussian([8, 8]))], name: "fc"))
        let graph = try g.build()
        let subgraph = ConstantSubgraph(graph, specialForms: [])
        XCTAssertTrue(subgraph.nodes.isEmpty)
        XCTAssertTrue(subgraph.pinned.isEmpty)
    }
}
