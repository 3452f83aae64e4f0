import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardPipeline
import OnboardTestSupport
import XCTest

final class RunnerFactoryTests: XCTestCase {
    let vit = TestPaths.fixture("vit/cls_token")

    func inputs() throws -> [String: Tensor] {
        try SafeTensorsFile(path: "\(vit)/inputs.safetensors").allTensors().filter { $0.key == "pixel_values" }
    }

    func test_fp32RunnerIsTheFP32ExecutorOfTheBundleGraph() throws {
        let bundle = try ModelBundle(directory: vit)
        let feed = try inputs()
        let batch = try XCTUnwrap(feed["pixel_values"]).shape[0]
        let runner = try RunnerFactory(bundle: bundle, precision: .fp32, threads: 2).runner(batch: batch)
        XCTAssertTrue(runner is FP32Executor)
        let direct = try FP32Executor(graph: try bundle.graph(batch: batch), threads: 2).run(feed)
        let viaFactory = try runner.run(feed)
        XCTAssertEqual(try XCTUnwrap(viaFactory["logits"]).floats(), try XCTUnwrap(direct["logits"]).floats())
        XCTAssertEqual(runner.weightBytes, (runner as? FP32Executor)?.plan.weightBytes)
    }

    func test_int8NeedsAQuantizedBundleAndAQuantizedBundleRunsOnlyInInt8() throws {
        let float = try ModelBundle(directory: vit)
        XCTAssertThrowsError(try RunnerFactory(bundle: float, precision: .int8, threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("precision int8 needs a quantized bundle"), "\(error)")
            XCTAssertFalse("\(error)".contains("--"), "a library error quotes no command-line flag: \(error)")
        }
        let directory = TestPaths.temporaryDirectory("runner-factory")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let quantized = try ModelBundle(directory: try PipelineFixtures.quantizedViT(directory))
        // FP32 on a quantized bundle: int8 weights dequantized, float activations.
        let weightsOnly = try RunnerFactory(bundle: quantized, precision: .fp32, threads: 1).runner(batch: 2)
        XCTAssertTrue(weightsOnly is FP32Executor)
        let exact = try XCTUnwrap(try RunnerFactory(bundle: float, precision: .fp32, threads: 1).runner(batch: 2).run(try inputs())["logits"]).floats()
        let approximate = try XCTUnwrap(try weightsOnly.run(try inputs())["logits"]).floats()
        let (error, magnitude) = maxErrors(approximate, exact)
        XCTAssertGreaterThan(error, 0)
        XCTAssertLessThan(error, 0.1 * magnitude)
        let factory = try RunnerFactory(bundle: quantized, precision: .int8, threads: 1)
        XCTAssertNotNil(factory.plan)
        let runner = try factory.runner(batch: 2)
        XCTAssertTrue(runner is Int8Executor)
        XCTAssertLessThan(runner.weightBytes, try RunnerFactory(bundle: float, precision: .fp32, threads: 1).runner(batch: 2).weightBytes)
    }

    func test_resultsDoNotDependOnTheThreadCount() throws {
        let bundle = try ModelBundle(directory: vit)
        let feed = try inputs()
        let batch = try XCTUnwrap(feed["pixel_values"]).shape[0]
        let one = try RunnerFactory(bundle: bundle, precision: .fp32, threads: 1).runner(batch: batch).run(feed)
        let two = try RunnerFactory(bundle: bundle, precision: .fp32, threads: 2).runner(batch: batch).run(feed)
        XCTAssertEqual(try XCTUnwrap(one["logits"]).floats(), try XCTUnwrap(two["logits"]).floats())
    }
}
