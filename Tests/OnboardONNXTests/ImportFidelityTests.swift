import OnboardCore
import OnboardGraph
import OnboardONNX
import OnboardTestSupport
import XCTest

/// Each model `tools/make_onnx_fixtures.py` exported, imported and run in FP32, against ONNX
/// Runtime's output on the same input: within 1e-4 of the largest output.
final class ImportFidelityTests: XCTestCase {
    static let models = [
        "vit_tiny_opset17", "vit_tiny_opset14", "deit_tiny_distilled", "resnet_tiny",
        "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
    ]

    func testEveryFixtureMatchesONNXRuntime() throws {
        for name in Self.models {
            let reference = try SafeTensorsFile(path: TestPaths.fixture("onnx/\(name).safetensors"))
            let input = try reference.tensor("input"), expected = try reference.tensor("output")
            let result = try ONNXImporter(path: TestPaths.fixture("onnx/\(name).onnx"), inputShapes: ["input": input.shape]).run()
            let output = try FP32Executor(graph: result.graph, threads: 2).run(["input": input])["output"]
            let actual = try XCTUnwrap(output, name)
            XCTAssertEqual(actual.shape, expected.shape, name)
            let (a, e) = (actual.floats(), expected.floats())
            let largest = e.map(abs).max() ?? 0
            let worst = zip(a, e).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertGreaterThan(largest, 0.1, name)
            XCTAssertLessThanOrEqual(worst, 1e-4 * largest, "\(name): max error \(worst) of \(largest)")
        }
    }

    /// The exporters' spelled-out GELU and LayerNorm and MatMul + bias become single graph ops.
    func testPatternsAreFused() throws {
        let opset14 = try ONNXImporter(path: TestPaths.fixture("onnx/vit_tiny_opset14.onnx")).run()
        XCTAssertEqual(opset14.fused["gelu"], 2)
        XCTAssertEqual(opset14.fused["layer_norm"], 5)
        XCTAssertEqual(opset14.fused["linear"], 8)
        let kinds = opset14.graph.nodes.map(\.op.kind)
        XCTAssertEqual(kinds.filter { $0 == "layernorm" }.count, 5)
        XCTAssertEqual(kinds.filter { $0 == "gelu" }.count, 2)
        XCTAssertEqual(kinds.filter { $0 == "linear" }.count, 9)
        XCTAssertEqual(opset14.opset, 14)
    }
}
