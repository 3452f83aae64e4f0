import OnboardCore
import OnboardGraph

/// What a QDQ model (ONNX Runtime's `quantize_static`, QuantFormat.QDQ) says about quantization,
/// by ONNX value name: the parameters of each run-time tensor a QuantizeLinear → DequantizeLinear
/// pair fake-quantizes, and the integer codes of each weight a DequantizeLinear reads from an initializer.
public struct QDQAnnotations {
    /// One quantized weight: the DequantizeLinear node and what it reads.
    struct Weight {
        let node: String
        let codes: [Int64]
        let shape: [Int]
        let type: Onnx_TensorProto.DataType
        let parameters: QuantizationParameters
    }

    /// By the quantized tensor's ONNX name: its parameters and the QuantizeLinear node they come from.
    var activations: [String: (params: ActivationQuant, node: String)] = [:]
    /// By the DequantizeLinear's output name.
    var weights: [String: Weight] = [:]

    public var isEmpty: Bool { activations.isEmpty && weights.isEmpty }
}

/// Takes the Q/DQ pairs on run-time values out of a model's nodes before anything else reads them,
/// so that the float graph left is the one the model was quantized from (and the fusions see its
/// patterns): each DequantizeLinear output is renamed to the QuantizeLinear's input, and the pair's
/// parameters are kept (`QDQAnnotations`). Q/DQ on values known at import (weights, biases,
/// constants) stay and are evaluated by `QuantizationRules`. Whatever has no such reading is one
/// error naming the node, its op type and the field: a DequantizeLinear whose parameters differ from
/// its QuantizeLinear's (a requantization), a QuantizeLinear read by anything but DequantizeLinear
/// (QOperator models) or by the graph's outputs, a DequantizeLinear of a run-time value no
/// QuantizeLinear made, codes other than 8-bit.
struct QDQStripping {
    let graph: Onnx_GraphProto
    let opset: Int
    let decoding: TensorDecoding

    func apply() throws -> (nodes: [Onnx_NodeProto], annotations: QDQAnnotations) {
        var nodes = graph.node
        guard nodes.contains(where: { Self.isQDQ($0) }) else { return (nodes, QDQAnnotations()) }
        let known = KnownTensors(graph, opset: opset, decoding: decoding)
        let runtime = runtimeValues(known: known)
        var consumers: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() { for input in Set(node.input) where !input.isEmpty { consumers[input, default: []].append(index) } }
        let outputs = Set(graph.output.map(\.name))
        var annotations = QDQAnnotations()
        var removed = Set<Int>(), alias: [String: String] = [:]

        for (index, proto) in nodes.enumerated() where proto.opType == "QuantizeLinear" && Self.isDefaultDomain(proto) {
            let node = ONNXNode(proto: proto, opset: opset)
            let (params, type) = try parameters(node, known: known, fields: ("y_scale", "y_zero_point"))
            if proto.attribute.allSatisfy({ $0.name != "output_dtype" }), let type {
                var attribute = Onnx_AttributeProto()
                (attribute.name, attribute.type, attribute.i) = ("output_dtype", .int, Int64(type == .int8 ? Onnx_TensorProto.DataType.int8.rawValue : Onnx_TensorProto.DataType.uint8.rawValue))
                nodes[index].attribute.append(attribute)
            }
            guard let x = node.input(0), let y = node.outputs.first else { continue }
            guard runtime.contains(x) else {
                try foldConstantPair(index, &nodes, readers: consumers[y] ?? [], known: known, removed: &removed, isOutput: outputs.contains(y))
                continue
            }
            let activation = try params.activation(node, type: type ?? .uint8, fields: ("y_scale", "y_zero_point"))
            guard !outputs.contains(y) else { throw node.fail("writes the graph output '\(y)' as codes; Onboard's outputs are float (a DequantizeLinear must follow)") }
            for reader in consumers[y] ?? [] {
                let dq = ONNXNode(proto: nodes[reader], opset: opset)
                guard dq.opType == "DequantizeLinear", Self.isDefaultDomain(dq.proto), dq.input(0) == y else {
                    throw node.fail("its codes '\(y)' are read by node '\(dq.name)' (\(dq.opType)); Onboard imports QDQ models, where only DequantizeLinear reads them (not QOperator ones)")
                }
                let (dqParams, dqType) = try parameters(dq, known: known, fields: ("x_scale", "x_zero_point"))
                let dqActivation = try dqParams.activation(dq, type: dqType ?? .uint8, fields: ("x_scale", "x_zero_point"))
                guard dqActivation.scale == activation.scale else {
                    throw dq.fail("x_scale \(dqActivation.scale) differs from y_scale \(activation.scale) of QuantizeLinear '\(node.name)': a requantization, which Onboard's one scale per tensor cannot express")
                }
                guard dqActivation == activation else {
                    throw dq.fail("x_zero_point differs from y_zero_point of QuantizeLinear '\(node.name)' (or its type): a requantization, which Onboard's one zero point per tensor cannot express")
                }
                removed.insert(reader)
                if let output = dq.outputs.first { alias[output] = x }
            }
            if let earlier = annotations.activations[x], earlier.params != activation {
                throw node.fail("quantizes '\(x)' with scale \(activation.scale) and zero point \(activation.zeroPoint), QuantizeLinear '\(earlier.node)' with \(earlier.params.scale) and \(earlier.params.zeroPoint): one tensor, two quantizations")
            }
            annotations.activations[x] = (activation, node.name)
            removed.insert(index)
        }

        for (index, proto) in nodes.enumerated() where proto.opType == "DequantizeLinear" && Self.isDefaultDomain(proto) && !removed.contains(index) {
            let node = ONNXNode(proto: proto, opset: opset)
            guard let x = node.input(0) else { throw node.fail("needs its input x") }
            guard !runtime.contains(x) else {
                throw node.fail("reads '\(x)', computed at run time but not by a QuantizeLinear: Onboard imports QDQ models, where every run-time DequantizeLinear follows a QuantizeLinear")
            }
            guard let (codes, type) = known[x], let output = node.outputs.first else { continue }
            let (params, _) = try parameters(node, known: known, fields: ("x_scale", "x_zero_point"), shape: codes.shape)
            if type == .int8 || type == .uint8 {
                annotations.weights[output] = QDQAnnotations.Weight(node: node.name, codes: codes.integers, shape: codes.shape, type: type, parameters: params)
            }
            // The fusions read weights and biases by name: they must be constants already.
            if let dequantize = QuantizationRules.dequantizeLinear.fold, let real = try dequantize(node, [codes] + operands(node, known)).first {
                nodes[index] = Self.constant(real, named: node.name, outputs: node.outputs)
            }
        }

        // Bounded: a hostile file can make the renaming circular.
        func resolve(_ name: String) -> String {
            var name = name
            for _ in 0...alias.count { guard let next = alias[name] else { break }; name = next }
            return name
        }
        // A graph output that was a DequantizeLinear's keeps its name: the tensor quantized is renamed to it.
        var renamed: [String: String] = [:]
        for output in graph.output.map(\.name) where alias[output] != nil && !graph.input.contains(where: { $0.name == resolve(output) }) {
            let source = resolve(output)
            guard renamed[source] == nil else { continue }
            renamed[source] = output
            alias[output] = nil
            annotations.activations[output] = annotations.activations.removeValue(forKey: source)
        }
        var kept: [Onnx_NodeProto] = []
        for (index, var node) in nodes.enumerated() where !removed.contains(index) {
            node.input = node.input.map { $0.isEmpty ? $0 : resolve($0) }.map { renamed[$0] ?? $0 }
            node.output = node.output.map { renamed[$0] ?? $0 }
            kept.append(node)
        }
        // One quantized tensor read as two graph outputs: the second is the first's value.
        for output in graph.output.map(\.name) where alias[output] != nil {
            var identity = Onnx_NodeProto()
            (identity.opType, identity.name, identity.input, identity.output) = ("Identity", output + "/dequantized", [resolve(output)], [output])
            kept.append(identity)
        }
        return (kept, annotations)
    }

    /// A Q → DQ pair on an initializer or a `Constant` becomes a `Constant` of the values it
    /// stands for (so that the fusions, which read constants by name, see the value).
    private func foldConstantPair(_ index: Int, _ nodes: inout [Onnx_NodeProto], readers: [Int], known: KnownTensors,
                                  removed: inout Set<Int>, isOutput: Bool) throws {
        let q = ONNXNode(proto: nodes[index], opset: opset)
        guard !isOutput, !readers.isEmpty, let x = q.input(0), let y = q.outputs.first, let (value, _) = known[x],
              readers.allSatisfy({ nodes[$0].opType == "DequantizeLinear" && Self.isDefaultDomain(nodes[$0]) && nodes[$0].input.first == y }),
              let quantize = QuantizationRules.quantizeLinear.fold, let dequantize = QuantizationRules.dequantizeLinear.fold else { return }
        guard let codes = try quantize(q, [value] + operands(q, known)).first else { return }
        for reader in readers {
            let dq = ONNXNode(proto: nodes[reader], opset: opset)
            guard let real = try dequantize(dq, [codes] + operands(dq, known)).first else { continue }
            nodes[reader] = Self.constant(real, named: dq.name, outputs: dq.outputs)
        }
        removed.insert(index)
    }

    /// A Q or DQ node's scale and zero point, when known.
    private func operands(_ node: ONNXNode, _ known: KnownTensors) -> [ConstantValue?] {
        (1..<3).map { node.input($0).flatMap { known[$0]?.0 } }
    }

    private static func constant(_ value: ConstantValue, named name: String, outputs: [String]) -> Onnx_NodeProto {
        var constant = Onnx_NodeProto()
        (constant.opType, constant.name, constant.output) = ("Constant", name, outputs)
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type) = ("value", .tensor)
        attribute.t.dims = value.shape.map(Int64.init)
        attribute.t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        attribute.t.floatData = value.floats
        constant.attribute = [attribute]
        return constant
    }

    static func isDefaultDomain(_ node: Onnx_NodeProto) -> Bool { node.domain.isEmpty || node.domain == "ai.onnx" }

    static func isQDQ(_ node: Onnx_NodeProto) -> Bool {
        isDefaultDomain(node) && (node.opType == "QuantizeLinear" || node.opType == "DequantizeLinear")
    }

    /// The node's checked scale and zero point (inputs 1 and 2), and the zero point's 8-bit type
    /// (nil when it has none).
    private func parameters(_ node: ONNXNode, known: KnownTensors,
                            fields: (scale: String, zeroPoint: String), shape: [Int]? = nil) throws
        -> (QuantizationParameters, QuantizationParameters.CodeType?) {
        guard let scaleName = node.input(1), let (scale, _) = known[scaleName] else {
            throw node.fail("\(fields.scale) must be an initializer or a Constant")
        }
        var zeroPoint: ConstantValue?, type: QuantizationParameters.CodeType?
        if let name = node.input(2) {
            guard let (value, dataType) = known[name] else { throw node.fail("\(fields.zeroPoint) must be an initializer or a Constant") }
            guard let codeType = QuantizationParameters.CodeType(dataType) ?? (dataType == .int32 && node.opType == "DequantizeLinear" ? .int8 : nil) else {
                throw node.fail("\(fields.zeroPoint) has type \(dataType); Onboard reads 8-bit codes (uint8, int8) and int32 biases")
            }
            if dataType != .int32 {
                if let bad = value.integers.first(where: { !codeType.range.contains($0) }) {
                    throw node.fail("\(fields.zeroPoint) \(bad) is outside the range of its type \(codeType) (\(codeType.range))")
                }
                type = codeType
            }
            zeroPoint = value
        }
        return (try QuantizationParameters(node, scale: scale, zeroPoint: zeroPoint, shape: shape, fields: fields), type)
    }

    /// Initializers and `Constant` outputs with their element types, decoded when first asked for
    /// (only parameters and 8-bit weights are).
    final class KnownTensors {
        private let protos: [String: Onnx_TensorProto]
        private let constants: [String: ONNXNode]
        private let decoding: TensorDecoding
        private var decoded: [String: (ConstantValue, Onnx_TensorProto.DataType)] = [:]

        init(_ graph: Onnx_GraphProto, opset: Int, decoding: TensorDecoding) {
            protos = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            constants = Dictionary(graph.node.filter { $0.opType == "Constant" && !($0.output.first ?? "").isEmpty }
                .map { ($0.output[0], ONNXNode(proto: $0, opset: opset)) }, uniquingKeysWith: { first, _ in first })
            self.decoding = decoding
        }

        func contains(_ name: String) -> Bool { protos[name] != nil || constants[name] != nil }

        subscript(name: String) -> (ConstantValue, Onnx_TensorProto.DataType)? {
            if let value = decoded[name] { return value }
            var value: (ConstantValue, Onnx_TensorProto.DataType)?
            if let proto = protos[name], let tensor = try? decoding.decode(proto, item: "initializer '\(name)'") {
                value = (tensor, Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)) ?? .undefined)
            } else if let node = constants[name], let tensor = try? ConstantRules.constant.fold?(node, []).first {
                value = (tensor, node.tensor("value").flatMap { Onnx_TensorProto.DataType(rawValue: Int($0.dataType)) } ?? .float)
            }
            decoded[name] = value
            return value
        }
    }

    /// Values computed at run time: the graph's inputs and what nodes compute from them (shapes
    /// are known at import).
    private func runtimeValues(known: KnownTensors) -> Set<String> {
        var runtime = Set(graph.input.map(\.name).filter { !known.contains($0) })
        for node in graph.node where !["Shape", "Size", "Constant"].contains(node.opType) && node.input.contains(where: runtime.contains) {
            runtime.formUnion(node.output.filter { !$0.isEmpty })
        }
        return runtime
    }
}
