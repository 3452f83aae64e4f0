import Foundation
import OnboardModels
import OnboardPipeline
import OnboardTestSupport
import XCTest

final class ReportsTests: XCTestCase {
    let vit = TestPaths.fixture("vit/cls_token")

    func test_everyShippedBoardLoadsAndAnUnknownNameListsThem() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(TestPaths.root)/Configs/boards")
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }
        XCTAssertEqual(names.count, 4)
        for name in names {
            let board = try BoardProfile.resolve(name)
            XCTAssertLessThanOrEqual(board.memoryBudgetBytes, board.ramBytes, name)
            XCTAssertGreaterThan(board.cpuCores, 0, name)
        }
        XCTAssertThrowsError(try BoardProfile.resolve("no-such-board")) { error in
            XCTAssertTrue("\(error)".contains("raspberry-pi-5-8gb"), "\(error)")
        }
    }

    func test_profileRowsFollowTheGraphAndThePeakIsWeightsPlusArena() throws {
        var request = Profiling.Request(model: vit)
        (request.board, request.runs, request.warmup, request.threads) = ("raspberry-pi-5-8gb", 2, 0, 1)
        let report = try Profiling.run(request)
        let graph = try ModelBundle(directory: vit).graph(batch: 1)
        XCTAssertEqual(report.ops.map(\.name), graph.nodes.map(\.name))
        XCTAssertEqual(report.peakBytes, report.weightsBytes + report.activationPeakBytes)
        XCTAssertEqual(report.fits, true)
        XCTAssertEqual(report.marginBytes, report.board.map { $0.memoryBudgetBytes - report.peakBytes })
        XCTAssertLessThanOrEqual(report.ops.map(\.liveBytes).max() ?? 0, report.activationPeakBytes)
        // Each op's scratch is planned in the arena: the op that needs the most has it in its live set.
        XCTAssertGreaterThan(report.scratchBytes, 0)
        XCTAssertGreaterThanOrEqual(report.ops.map(\.liveBytes).max() ?? 0, report.scratchBytes)
    }

    func test_benchReportsTheRunnerFiguresAndOpKinds() throws {
        var request = Benchmark.Request(model: vit)
        (request.iterations, request.warmup, request.threads, request.profile) = (2, 0, 1, true)
        let (report, byKind) = try Benchmark.run(request)
        let runner = try RunnerFactory(bundle: try ModelBundle(directory: vit), precision: .fp32, threads: 1).runner(batch: 1)
        XCTAssertEqual(report.weightsBytes, runner.weightBytes)
        XCTAssertEqual(report.activationPeakBytes, runner.memoryPlan.arenaBytes)
        XCTAssertEqual(Set(byKind.map(\.kind)), Set(runner.graph.nodes.map(\.op.kind)))
        XCTAssertEqual(report.opMs?.count, byKind.count)
    }

    func test_comparisonFindsTheWorstTensorsAndMeasuresExclusions() throws {
        let directory = TestPaths.temporaryDirectory("comparison")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let quantized = try PipelineFixtures.quantizedViT(directory)
        var request = Comparison.Request(model: vit, quantized: quantized, inputs: "\(vit)/inputs.safetensors")
        (request.exclude, request.threads) = (["head"], 2)
        let report = try Comparison.run(request, log: .silent)
        XCTAssertEqual(report.exclusions.map(\.op), ["head"])
        let sqnrs = report.tensors.map(\.accumulated.sqnr)
        XCTAssertFalse(sqnrs.isEmpty)
        XCTAssertNotNil(report.outputs["logits"])
        request.exclude = ["no_such_op"]
        XCTAssertThrowsError(try Comparison.run(request, log: .silent)) { error in
            XCTAssertTrue("\(error)".contains("no op named 'no_such_op'"), "\(error)")
        }
    }
}
