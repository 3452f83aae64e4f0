import Foundation
import OnboardCore
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
}
