import Foundation
import OnboardCore
import OnboardGraph

/// The nodes and initializers of an ONNX graph being written, with fresh names for the helper
/// values an op's spelling needs.
final class ONNXWriter {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var names: Set<String>
    private var counter = 0

    init(reserved: Set<String>) { names = reserved }

    /// A name no value has yet, from `base`.
    func fresh(_ base: String) -> String {
        var name = base
        while !names.insert(name).inserted {
            counter += 1
            name = "\(base)_\(counter)"
        }
        return name
    }

    @discardableResult
    func node(_ opType: String, _ inputs: [String], output: String, attributes: [Onnx_AttributeProto] = []) -> String {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = output
        node.input = inputs
        node.output = [output]
        node.attribute = attributes
        nodes.append(node)
        return output
    }

    /// A node whose output gets a fresh name from `base`.
    func step(_ opType: String, _ inputs: [String], _ base: String, attributes: [Onnx_AttributeProto] = []) -> String {
        node(opType, inputs, output: fresh(base), attributes: attributes)
    }

    func floats(_ name: String, shape: [Int], _ values: [Float]) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        initializers.append(tensor)
    }

    /// A fresh f32 constant.
    func constant(_ base: String, shape: [Int] = [], _ values: [Float]) -> String {
        let name = fresh(base)
        floats(name, shape: shape, values)
        return name
    }

    /// A fresh int64 vector.
    func integers(_ base: String, _ values: [Int]) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = fresh(base)
        tensor.dims = [Int64(values.count)]
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.int64Data = values.map(Int64.init)
        initializers.append(tensor)
        return tensor.name
    }

    static func attribute(_ name: String, int value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func attribute(_ name: String, ints values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func attribute(_ name: String, float value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func attribute(_ name: String, string value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(value.utf8)
        return a
    }
}
