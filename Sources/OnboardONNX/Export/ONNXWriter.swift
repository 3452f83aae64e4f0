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
        raw(name, .float, shape: shape, values.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    /// An initializer of `type` from its little-endian bytes.
    func raw(_ name: String, _ type: Onnx_TensorProto.DataType, shape: [Int], _ bytes: Data) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = Int32(type.rawValue)
        tensor.rawData = bytes
        initializers.append(tensor)
    }

    /// `QuantizeLinear` then `DequantizeLinear` of `input` into `output` with Onboard's parameters:
    /// int8 with zero point 0 when the codes are symmetric around 128, else uint8 with the zero
    /// point; a code range narrower than the type's is a `Clip` before.
    func fakeQuantize(_ input: String, _ q: ActivationQuant, output: String) {
        let symmetric = q.zeroPoint == 128
        let (low, high) = symmetric ? (Int32(-128), Int32(127)) : (Int32(0), Int32(255))
        let (qmin, qmax) = symmetric ? (q.qmin - 128, q.qmax - 128) : (q.qmin, q.qmax)
        var x = input
        if qmin > low || qmax < high {
            let range = q.representableRange
            x = step("Clip", [x, constant(output + "/min", [range.min]), constant(output + "/max", [range.max])], output + "/clipped")
        }
        let scale = constant(output + "/scale", [q.scale])
        let zero = fresh(output + "/zero_point")
        raw(zero, symmetric ? .int8 : .uint8, shape: [], Data([symmetric ? 0 : UInt8(q.zeroPoint)]))
        node("DequantizeLinear", [step("QuantizeLinear", [x, scale, zero], output + "/q"), scale, zero], output: output)
    }

    /// Int8 weight codes with per-tensor or per-`axis` scales, dequantized into `output`.
    func dequantizedWeight(codes: [Int8], shape: [Int], scales: [Float], axis: Int, output: String) {
        let name = fresh(output + "/codes")
        raw(name, .int8, shape: shape, codes.withUnsafeBufferPointer { Data(buffer: $0) })
        let scale = constant(output + "/scale", shape: scales.count == 1 ? [] : [scales.count], scales)
        let zero = fresh(output + "/zero_point")
        raw(zero, .int8, shape: scales.count == 1 ? [] : [scales.count], Data(count: scales.count))
        node("DequantizeLinear", [name, scale, zero], output: output,
             attributes: scales.count == 1 ? [] : [Self.attribute("axis", int: axis)])
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
