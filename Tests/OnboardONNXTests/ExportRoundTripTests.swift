import Foundation
import OnboardCore
import OnboardGraph
import OnboardONNX
import OnboardTestSupport
import XCTest

/// Exported graphs read back as the same function: import → export → import gives the same outputs
/// on every fixture (ONNX Runtime's check of the exported files is tools/check_onnx_export.py).
final class ExportRoundTripTests: XCTestCase {
    func test_exportedFixturesComputeTheSameOutputs() throws {
        let folder = TestPaths.temporaryDirectory("onnx-export")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ImportFidelityTests.models {
            let reference = try SafeTensorsFile(path: TestPaths.fixture("onnx/\(name).safetensors"))
            let input = try reference.tensor("input")
            let original = try ONNXImporter(path: TestPaths.fixture("onnx/\(name).onnx"), inputShapes: ["input": input.shape]).run().graph
            let path = "\(folder)/\(name).onnx"
            try ONNXExporter.model(original, name: name).write(to: URL(fileURLWithPath: path))
            let exported = try ONNXImporter(path: path).run()
            XCTAssertEqual(exported.opset, ONNXExporter.opset)
            let a = try XCTUnwrap(try FP32Executor(graph: original, threads: 2).run(["input": input])["output"]).floats()
            let b = try XCTUnwrap(try FP32Executor(graph: exported.graph, threads: 2).run(["input": input])["output"]).floats()
            let largest = a.map(abs).max() ?? 0
            XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max() ?? .infinity, 1e-5 * largest, name)
            XCTAssertEqual(exported.graph.nodes.map(\.op.kind), original.nodes.map(\.op.kind), name)
        }
    }
}
