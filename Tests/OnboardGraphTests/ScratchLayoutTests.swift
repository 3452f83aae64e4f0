import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// The INT8 executor's scratch holds what its nodes run with: nothing for islands computed on
/// codes, slots only for operands stored in f32.
final class ScratchLayoutTests: XCTestCase {
    /// x [1, 64, 32] -> linear (32 -> 128) -> gelu -> linear (128 -> 32).
    func mlp() throws -> Graph {
        var random = TestRandom(seed: 3)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [1, 64, 32])
        let h = try g.node(.linear, [x, try g.constant("fc1.weight", random.gaussian([128, 32], scale: 0.3))], name: "fc1")
        let a = try g.node(.gelu(approximate: false), [h], name: "act")
        g.markOutput(try g.node(.linear, [a, try g.constant("fc2.weight", random.gaussian([32, 128], scale: 0.2))], name: "fc2"))
        return try g.build()
    }

    func executor(_ graph: Graph, recipe: QuantizationRecipe = QuantizationRecipe()) throws -> Int8Executor {
        var random = TestRandom(seed: 8)
        let samples = (0..<4).map { _ in ["x": random.gaussian([1, 64, 32])] }
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 1) { samples[$0] }
        return try Int8Executor(graph: graph, plan: plan, threads: 1)
    }

    func test_aCodeTableAndLinearsOnCodesNeedNoScratch() throws {
        let executor = try executor(try mlp())
        XCTAssertEqual(executor.memoryPlan.scratchBytes, 0)
        XCTAssertEqual(executor.memoryPlan.scratchOffsets, [:])
        // The GELU as a float island: its input and output in f32.
        XCTAssertEqual(executor.scratchLayout.plainIslandByteCount, 2 * MemoryPlanner.align(64 * 128 * 4))
    }

    func test_turningTheCodePathsOffMakesRoomForTheFloatIslands() throws {
        let graph = try mlp()
        let fast = try executor(graph)
        let plain = try executor(graph)
        plain.codePathsEnabled = false
        XCTAssertEqual(plain.plainScratch?.byteCount, 2 * MemoryPlanner.align(64 * 128 * 4))
        var random = TestRandom(seed: 9)
        let x = random.gaussian([1, 64, 32])
        XCTAssertEqual(try fast.run(["x": x])["fc2"]!.floats(), try plain.run(["x": x])["fc2"]!.floats())
    }

    func test_aLinearReadingAKeptFloatTensorHasASlotForItsCodes() throws {
        var recipe = QuantizationRecipe()
        recipe.keepFloat = ["act"]
        let executor = try executor(try mlp(), recipe: recipe)
        let fc2 = executor.graph.nodes.first { $0.name == "fc2" }!
        XCTAssertEqual(executor.scratchLayout.workOffset(fc2), MemoryPlanner.align(64 * 128))
        let fc1 = executor.graph.nodes.first { $0.name == "fc1" }!
        XCTAssertEqual(executor.scratchLayout.workOffset(fc1), 0)
        // The kept GELU dequantizes its input and writes its f32 output in place: the largest need.
        XCTAssertEqual(executor.memoryPlan.scratchBytes, MemoryPlanner.align(64 * 128 * 4))
    }

    /// Each node's scratch lies in the arena, clear of every value live while the node runs.
    func test_aNodesScratchIsPlannedInTheArenaClearOfItsLiveValues() throws {
        var recipe = QuantizationRecipe()
        recipe.keepFloat = ["act"]
        let executor = try executor(try mlp(), recipe: recipe)
        let graph = executor.graph, plan = executor.memoryPlan
        XCTAssertFalse(plan.scratchOffsets.isEmpty)
        for (index, offset) in plan.scratchOffsets {
            let bytes = executor.scratchLayout.nodeBytes[index]
            XCTAssertLessThanOrEqual(offset + bytes, plan.arenaBytes)
            let node = graph.nodes[index]
            for value in node.inputs + [node.output] where graph.constants[value] == nil {
                guard let start = plan.offsets[value] else { continue }
                let end = start + (executor.storesCodes(value) ? graph.info(value).count : graph.info(value).byteCount)
                XCTAssertTrue(end <= offset || offset + bytes <= start, "\(node.name): scratch overlaps \(graph.info(value).name)")
            }
        }
    }
}
