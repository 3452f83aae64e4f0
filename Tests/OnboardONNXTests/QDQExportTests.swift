import Foundation
import OnboardCore
import OnboardGraph
@testable import OnboardONNX
import OnboardTestSupport
import XCTest

/// What an INT8 export writes for weights: the codes the executor runs on, also for weights it
/// quantizes when it loads (a float constant of the graph, as the q/k/v slices of a packed attention
/// projection are), never the float weight.
final class QDQExportTests: XCTestCase {
    func test_aWeightQuantizedAtLoadIsExportedAsTheExecutorsCodes() throws {
        var random = TestRandom(seed: 11)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [4, 8])
        let weight = random.gaussian([6, 8], scale: 0.5)
        let y = try g.node(.linear, [x, try g.constant("w", weight), try g.constant("b", random.gaussian([6], scale: 0.1))], name: "proj")
        g.markOutput(y)
        let graph = try g.build()
        let samples = (0..<3).map { _ in ["x": random.gaussian([4, 8])] }
        let plan = try Calibrator.calibrate(graph: graph, recipe: QuantizationRecipe(), count: samples.count, threads: 1) { samples[$0] }
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 1)
        XCTAssertEqual(executor.executions, [.integer])
        XCTAssertEqual(executor.graph.constants.values.map(\.dtype).sorted { $0.byteSize < $1.byteSize }, [.f32, .f32], "the weight is float in the graph")

        let data = try ONNXExporter.model(executor.graph, name: "proj", qdq: try QDQPlacement(executor))
        let model = try Onnx_ModelProto(serializedBytes: data)
        let expected = QuantizedWeight(quantizing: weight, perChannel: false)
        let codes = expected.codes.rawPointer.assumingMemoryBound(to: Int8.self)
        let transposed = (0..<48).map { UInt8(bitPattern: codes[($0 % 6) * 8 + $0 / 6]) }
        let int8 = model.graph.initializer.filter { $0.dataType == Int32(Onnx_TensorProto.DataType.int8.rawValue) && $0.dims == [8, 6] }
        XCTAssertEqual(int8.map { [UInt8]($0.rawData) }, [transposed])
        XCTAssertFalse(model.graph.initializer.contains { $0.dims == [8, 6] && $0.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue) },
                       "no float copy of the weight")
        let dequantize = try XCTUnwrap(model.graph.node.first { $0.opType == "DequantizeLinear" && $0.input[0] == int8.first?.name })
        let scale = try XCTUnwrap(model.graph.initializer.first { $0.name == dequantize.input[1] })
        XCTAssertEqual(scale.rawData.withUnsafeBytes { $0.load(as: Float.self) }, expected.scales[0])
        XCTAssertTrue(model.graph.node.contains { $0.opType == "MatMul" && $0.input.contains(dequantize.output[0]) })
    }
}
