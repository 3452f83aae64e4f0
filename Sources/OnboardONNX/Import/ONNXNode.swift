import Foundation
import OnboardCore

/// One `NodeProto` with typed access to its attributes; every complaint names the node, its op
/// type and the opset it was read under.
struct ONNXNode {
    let proto: Onnx_NodeProto
    /// The default domain's opset version of the model.
    let opset: Int

    var opType: String { proto.opType }
    /// The node's name, or its first output's when it has none.
    var name: String { proto.name.isEmpty ? (proto.output.first ?? "?") : proto.name }
    /// Input names; an empty name is an optional input left out.
    var inputs: [String] { proto.input }
    var outputs: [String] { proto.output }

    func input(_ index: Int) -> String? {
        index < proto.input.count && !proto.input[index].isEmpty ? proto.input[index] : nil
    }

    func fail(_ reason: String) -> OnboardError {
        .model(item: "node '\(name)' (\(opType), opset \(opset))", reason: reason)
    }

    private func attribute(_ name: String) -> Onnx_AttributeProto? { proto.attribute.first { $0.name == name } }

    func has(_ name: String) -> Bool { attribute(name) != nil }

    func int(_ name: String, default value: Int? = nil) throws -> Int {
        guard let attribute = attribute(name) else {
            guard let value else { throw fail("needs the integer attribute '\(name)'") }
            return value
        }
        guard attribute.type == .int || attribute.type == .undefined, attribute.i >= Int64(Int32.min), attribute.i <= Int64(Int32.max) else {
            throw fail("attribute '\(name)' must be an integer in the 32-bit range")
        }
        return Int(attribute.i)
    }

    func ints(_ name: String) throws -> [Int]? {
        guard let attribute = attribute(name) else { return nil }
        guard attribute.ints.allSatisfy({ $0 >= Int64(Int32.min) && $0 <= Int64(Int32.max) }) else {
            throw fail("attribute '\(name)' has values outside the 32-bit range")
        }
        return attribute.ints.map { Int($0) }
    }

    func float(_ name: String, default value: Float) -> Float {
        attribute(name).map(\.f) ?? value
    }

    func string(_ name: String, default value: String) -> String {
        attribute(name).map { String(decoding: $0.s, as: UTF8.self) } ?? value
    }

    func tensor(_ name: String) -> Onnx_TensorProto? { attribute(name).flatMap { $0.hasT ? $0.t : nil } }

    func floats(_ name: String) -> [Float]? { attribute(name).map(\.floats) }

    /// An axis attribute or value in `-rank..<rank`, made non-negative.
    func axis(_ axis: Int, rank: Int, what: String = "axis") throws -> Int {
        guard axis >= -rank, axis < max(rank, 1) else { throw fail("\(what) \(axis) is out of range for rank \(rank)") }
        return axis < 0 ? axis + rank : axis
    }
}
