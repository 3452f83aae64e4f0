import Foundation
import OnboardCore
import OnboardGraph
@testable import OnboardONNX
import OnboardTestSupport
import XCTest

/// Files a user should never get a crash or a huge allocation from: each is one error naming
/// what is wrong, and nothing is read outside the model's folder.
final class HostileModelTests: XCTestCase {
    private var folder = ""

    override func setUp() { folder = TestPaths.temporaryDirectory("onnx-hostile") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    /// `y = relu(x · w)` with x [1, 4], w [4, 2]; `edit` changes it before it is written.
    private func model(opset: Int64 = 17, _ edit: (inout Onnx_ModelProto) -> Void = { _ in }) throws -> String {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.version = opset
        model.opsetImport = [opsetID]
        var weight = Onnx_TensorProto()
        weight.name = "w"
        weight.dims = [4, 2]
        weight.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        weight.floatData = (0..<8).map { Float($0) / 8 }
        model.graph.initializer = [weight]
        model.graph.input = [valueInfo("x", [1, 4])]
        model.graph.output = [valueInfo("y", [1, 2])]
        model.graph.node = [node("MatMul", ["x", "w"], ["h"]), node("Relu", ["h"], ["y"])]
        edit(&model)
        let path = (folder as NSString).appendingPathComponent("model.onnx")
        try model.serializedData().write(to: URL(fileURLWithPath: path))
        return path
    }

    private func valueInfo(_ name: String, _ shape: [Int64]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        info.type.tensorType.shape.dim = shape.map { value in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.value = .dimValue(value)
            return dim
        }
        return info
    }

    private func node(_ opType: String, _ inputs: [String], _ outputs: [String]) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = opType.lowercased()
        node.input = inputs
        node.output = outputs
        return node
    }

    private func assertFails(_ path: String, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXImporter(path: path).run(), file: file, line: line) { error in
            let text = "\(error)"
            for fragment in fragments { XCTAssertTrue(text.contains(fragment), "'\(fragment)' not in: \(text)", file: file, line: line) }
        }
    }

    func test_theValidModelImportsAndRuns() throws {
        let graph = try ONNXImporter(path: try model()).run().graph
        XCTAssertEqual(graph.nodes.map(\.op.kind), ["linear", "relu"])
    }

    func test_truncatedFileIsNotAModel() throws {
        let path = try model()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        assertFails(path, "not a readable ONNX model", path)
    }

    func test_externalDataOutsideTheFolderIsRefused() throws {
        for location in ["../outside.bin", "/etc/passwd", "sub/../../outside.bin"] {
            let path = try model { model in
                model.graph.initializer[0].floatData = []
                model.graph.initializer[0].dataLocation = .external
                var entry = Onnx_StringStringEntryProto()
                entry.key = "location"
                entry.value = location
                model.graph.initializer[0].externalData = [entry]
            }
            assertFails(path, "initializer 'w'", "outside the model's folder")
        }
    }

    func test_externalDataShorterThanItsShapeIsAnError() throws {
        let path = try model { model in
            model.graph.initializer[0].floatData = []
            model.graph.initializer[0].dataLocation = .external
            var entry = Onnx_StringStringEntryProto()
            entry.key = "location"
            entry.value = "weights.bin"
            model.graph.initializer[0].externalData = [entry]
        }
        try Data(count: 12).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("weights.bin")))
        assertFails(path, "initializer 'w'", "holds 12 bytes, 32 are needed")
    }

    func test_hugeDeclaredTensorsAreRefusedBeforeAllocation() throws {
        let huge = try model { $0.graph.initializer[0].dims = [1 << 30, 1 << 30] }
        assertFails(huge, "initializer 'w'")
        let lying = try model { model in
            model.graph.initializer[0].floatData = []
            model.graph.initializer[0].rawData = Data(count: 8)
        }
        assertFails(lying, "raw_data holds 8 bytes", "needs 32")
        let input = try model { $0.graph.input[0] = self.valueInfo("x", [1 << 20, 1 << 20, 1 << 20]) }
        assertFails(input, "input 'x'")
    }

    func test_cyclesAndMissingValuesNameTheNode() throws {
        let cycle = try model { model in
            model.graph.node = [self.node("Relu", ["b"], ["a"]), self.node("Sigmoid", ["a"], ["b"]), self.node("Identity", ["a"], ["y"])]
        }
        assertFails(cycle, "node 'relu' (Relu, opset 17)", "reads 'b'")
        let missing = try model { $0.graph.initializer = [] }
        assertFails(missing, "node 'matmul' (MatMul, opset 17)", "reads 'w'")
    }

    func test_unsupportedOpsAndOpsetsAreNamed() throws {
        let unsupported = try model { $0.graph.node[1] = self.node("NonMaxSuppression", ["h"], ["y"]) }
        assertFails(unsupported, "node 'nonmaxsuppression' (NonMaxSuppression, opset 17)", "op type NonMaxSuppression is not supported")
        assertFails(try model(opset: 12), "opset 12", "13 to 21")
        let domain = try model { $0.graph.node[1].domain = "com.microsoft" }
        assertFails(domain, "of domain 'com.microsoft' is not supported")
    }

    func test_outputsMustBeComputed() throws {
        let constant = try model { $0.graph.output = [self.valueInfo("w", [4, 2])] }
        assertFails(constant, "output 'w'", "not computed by the graph")
    }

    /// Shape arithmetic on hostile constants saturates or is refused; it never traps on overflow.
    func test_rangeAcrossInt64IsRefused() throws {
        let path = try model { model in
            for (name, value) in [("start", Int64.min), ("limit", Int64.max), ("delta", 1)] {
                var scalar = Onnx_TensorProto()
                scalar.name = name
                scalar.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
                scalar.int64Data = [value]
                model.graph.initializer.append(scalar)
            }
            model.graph.node.insert(self.node("Range", ["start", "limit", "delta"], ["r"]), at: 0)
        }
        assertFails(path, "node 'range' (Range, opset 17)", "too long")
    }

    // MARK: - QDQ models

    /// `y = relu(dq(q(dq(q(x)) · dq(w))))` as `quantize_static` writes it: uint8 activations,
    /// symmetric int8 weights; `edit` changes it before it is written.
    private func qdqModel(_ edit: (inout Onnx_ModelProto) -> Void = { _ in }) throws -> String {
        try model { model in
            model.graph.initializer = [
                tensor("w_q", [4, 2], .int8, (0..<8).map { Int32($0) - 4 }), tensor("w_s", [], floats: [0.1]), tensor("w_zp", [], .int8, [0]),
                tensor("x_s", [], floats: [0.02]), tensor("x_zp", [], .uint8, [128]),
                tensor("h_s", [], floats: [0.05]), tensor("h_zp", [], .uint8, [100]),
            ]
            var weight = node("DequantizeLinear", ["w_q", "w_s", "w_zp"], ["w"])
            weight.name = "weight_dq"
            var output = node("DequantizeLinear", ["h_q", "h_s", "h_zp"], ["h_dq"])
            output.name = "h_dq"
            model.graph.node = [node("QuantizeLinear", ["x", "x_s", "x_zp"], ["x_q"]), node("DequantizeLinear", ["x_q", "x_s", "x_zp"], ["x_dq"]),
                                weight, node("MatMul", ["x_dq", "w"], ["h"]), node("QuantizeLinear", ["h", "h_s", "h_zp"], ["h_q"]), output,
                                node("Relu", ["h_dq"], ["y"])]
            edit(&model)
        }
    }

    private func tensor(_ name: String, _ dims: [Int64], _ type: Onnx_TensorProto.DataType = .float, _ ints: [Int32] = [],
                        floats: [Float] = []) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        (tensor.name, tensor.dims, tensor.dataType) = (name, dims, Int32(type.rawValue))
        if type == .float { tensor.floatData = floats } else { tensor.int32Data = ints }
        return tensor
    }

    private func replace(_ name: String, in model: inout Onnx_ModelProto, with tensor: Onnx_TensorProto) {
        model.graph.initializer = model.graph.initializer.map { $0.name == name ? tensor : $0 }
    }

    func test_qdqModelImportsWithItsParameters() throws {
        let result = try ONNXImporter(path: try qdqModel()).run()
        let quantization = try XCTUnwrap(result.quantization)
        XCTAssertEqual(quantization.activations["x"], ActivationQuant(scale: 0.02, zeroPoint: 128))
        XCTAssertEqual(quantization.activations["h"], ActivationQuant(scale: 0.05, zeroPoint: 100))
        XCTAssertEqual(result.graph.nodes.map(\.op.kind), ["linear", "relu"])
        let plan = try QDQPlan(graph: result.graph, quantization: quantization, source: "quant.json")
        XCTAssertEqual(plan.keptFloat, ["y"])
        XCTAssertEqual(plan.weights["w^T"]?.scales, [0.1])
    }

    func test_badScalesAreRefused() throws {
        for scale: Float in [0, -0.5, .nan, .infinity] {
            let path = try qdqModel { replace("x_s", in: &$0, with: tensor("x_s", [], floats: [scale])) }
            assertFails(path, "node 'quantizelinear' (QuantizeLinear, opset 17)", "y_scale is \(scale)")
        }
        let weight = try qdqModel { replace("w_s", in: &$0, with: tensor("w_s", [], floats: [0])) }
        assertFails(weight, "node 'weight_dq' (DequantizeLinear, opset 17)", "x_scale is 0.0")
    }

    func test_zeroPointOutOfItsTypeIsRefused() throws {
        let path = try qdqModel { replace("x_zp", in: &$0, with: tensor("x_zp", [], .uint8, [300])) }
        assertFails(path, "node 'quantizelinear'", "y_zero_point 300 is outside the range of its type uint8")
        let wide = try qdqModel { replace("x_zp", in: &$0, with: tensor("x_zp", [], .int16, [3])) }
        assertFails(wide, "node 'quantizelinear'", "y_zero_point has type int16")
    }

    func test_perChannelScalesOfTheWrongLengthAreRefused() throws {
        let path = try qdqModel { model in
            replace("w_s", in: &model, with: tensor("w_s", [3], floats: [0.1, 0.2, 0.3]))
            replace("w_zp", in: &model, with: tensor("w_zp", [3], .int8, [0, 0, 0]))
        }
        assertFails(path, "node 'weight_dq' (DequantizeLinear", "x_scale has shape [3]", "axis 1 of [4, 2]")
    }

    func test_requantizationAndQOperatorCodesAreRefused() throws {
        let requantized = try qdqModel { model in
            model.graph.initializer.append(tensor("x_s2", [], floats: [0.04]))
            model.graph.node[1].input[1] = "x_s2"
        }
        assertFails(requantized, "node 'dequantizelinear'", "x_scale 0.04 differs from y_scale 0.02 of QuantizeLinear 'quantizelinear'")
        let codes = try qdqModel { $0.graph.node.append(node("Relu", ["x_q"], ["r"])) }
        assertFails(codes, "node 'quantizelinear'", "read by node 'relu' (Relu)")
        let circular = try qdqModel { model in model.graph.node[1].output[0] = "x" }
        assertFails(circular, "'x_dq'")
        let unpaired = try qdqModel { model in model.graph.node[1].input[0] = "x" }
        assertFails(unpaired, "node 'dequantizelinear'", "reads 'x', computed at run time but not by a QuantizeLinear")
    }

    func test_weightsTheIntegerKernelsCannotTakeAreRefusedForINT8() throws {
        let cases: [(String, (inout Onnx_ModelProto) -> Void, String)] = [
            ("asymmetric", { self.replace("w_zp", in: &$0, with: self.tensor("w_zp", [], .int8, [3])) }, "x_zero_point is not 0"),
            ("-128", { self.replace("w_q", in: &$0, with: self.tensor("w_q", [4, 2], .int8, [-128, 0, 0, 0, 0, 0, 0, 0])) }, "-128"),
            ("input axis", { model in
                self.replace("w_s", in: &model, with: self.tensor("w_s", [4], floats: [0.1, 0.2, 0.3, 0.4]))
                self.replace("w_zp", in: &model, with: self.tensor("w_zp", [4], .int8, [0, 0, 0, 0]))
                var axis = Onnx_AttributeProto()
                (axis.name, axis.type, axis.i) = ("axis", .int, 0)
                model.graph.node[2].attribute = [axis]
            }, "axis is 0: per-channel scales along the layer's inputs"),
        ]
        for (label, edit, message) in cases {
            let result = try ONNXImporter(path: try qdqModel(edit)).run()
            XCTAssertThrowsError(try QDQPlan(graph: result.graph, quantization: try XCTUnwrap(result.quantization), source: "quant.json"), label) { error in
                XCTAssertTrue("\(error)".contains("node 'weight_dq' (DequantizeLinear)"), "\(error)")
                XCTAssertTrue("\(error)".contains(message), "\(label): \(error)")
            }
        }
    }
}
