import Foundation
import OnboardCore
import OnboardGraph
import OnboardQuant

/// An Onboard graph as an ONNX model (opset 17) that ONNX Runtime runs with the same outputs: each
/// op spelled in standard ONNX ops, constants as initializers (int8 weights dequantized), value
/// names kept.
public enum ONNXExporter {
    public static let opset = 17
    /// Protobuf's limit on one message; larger models would need external data.
    static let maxBytes = Int(Int32.max)

    /// - Parameter qdq: for an INT8 export, where the quantized values are (`QDQPlacement`); int8
    ///   weights are then written as codes with `DequantizeLinear`, else dequantized.
    public static func model(_ graph: Graph, name: String, qdq: QDQPlacement? = nil) throws -> Data {
        let writer = ONNXWriter(reserved: Set(graph.values.map(\.name)))
        // A linear layer's weight is written transposed, by the layer; the original only when read elsewhere.
        var readOtherwise = Set<ValueID>()
        for node in graph.nodes {
            for (index, input) in node.inputs.enumerated() where !(node.op == .linear && index == 1) { readOtherwise.insert(input) }
        }
        for id in graph.constants.keys.sorted() where readOtherwise.contains(id) {
            let info = graph.info(id)
            if let qdq, let (codes, scales) = int8Weight(id, in: graph, qdq) {
                writer.dequantizedWeight(codes: codes, shape: info.shape, scales: scales, axis: 0, output: info.name)
                continue
            }
            guard let tensor = graph.floatConstant(id), tensor.dtype == .f32 else {
                throw OnboardError.model(item: info.name, reason: "constant of type \(info.dtype) has no ONNX export")
            }
            writer.floats(info.name, shape: tensor.shape, tensor.floats())
        }
        var read = graph.values.map(\.name)
        for input in graph.inputs {
            guard let q = qdq?.activations[input] else { continue }
            read[input.index] = writer.fresh(read[input.index] + "/dq")
            writer.fakeQuantize(graph.info(input).name, q, output: read[input.index])
        }
        for node in graph.nodes {
            let out = graph.info(node.output).name, q = qdq?.activations[node.output]
            let target = q == nil ? out : writer.fresh(out + "/float")
            try spell(node, inputs: node.inputs.map { read[$0.index] }, out: target, in: graph, writer, qdq: qdq)
            guard let q else { continue }
            var stored = target
            if qdq?.stabilized.contains(node.output) == true {
                let top = writer.step("ReduceMax", [target], out + "/row_max",
                                      attributes: [ONNXWriter.attribute("axes", ints: [-1]), ONNXWriter.attribute("keepdims", int: 1)])
                stored = writer.step("Sub", [target, top], out + "/stabilized")
            }
            writer.fakeQuantize(stored, q, output: out)
        }
        let weightBytes = writer.initializers.reduce(0) { $0 + $1.rawData.count }
        guard weightBytes < maxBytes else {
            throw OnboardError.model(item: "graph", reason: "\(weightBytes) bytes of weights exceed the 2 GiB a single ONNX file holds")
        }

        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "onboard"
        model.producerVersion = OnboardVersion.current
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.version = Int64(opset)
        model.opsetImport = [opsetID]
        model.graph.name = name
        model.graph.node = writer.nodes
        model.graph.initializer = writer.initializers
        model.graph.input = graph.inputs.map { valueInfo(graph.info($0)) }
        model.graph.output = graph.outputs.map { valueInfo(graph.info($0)) }
        return try model.serializedData()
    }

    private static func valueInfo(_ info: ValueInfo) -> Onnx_ValueInfoProto {
        var value = Onnx_ValueInfoProto()
        value.name = info.name
        let type: Onnx_TensorProto.DataType = info.dtype == .i64 ? .int64 : info.dtype == .i32 ? .int32 : .float
        value.type.tensorType.elemType = Int32(type.rawValue)
        value.type.tensorType.shape.dim = info.shape.map { size in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.value = .dimValue(Int64(size))
            return dim
        }
        return value
    }

    /// The codes and scales of a weight an integer op runs on (as the executor quantized it), or of
    /// an int8 constant.
    private static func int8Weight(_ id: ValueID, in graph: Graph, _ qdq: QDQPlacement) -> ([Int8], [Float])? {
        let stored = graph.constants[id].flatMap { tensor in graph.weightScales[id].map { QuantizedWeight(codes: tensor, scales: $0) } }
        guard let weight = qdq.weights[id] ?? stored, weight.codes.dtype == .i8 else { return nil }
        let codes = weight.codes
        return (Array(UnsafeBufferPointer(start: codes.rawPointer.assumingMemoryBound(to: Int8.self), count: codes.count)), weight.scales)
    }

    /// A linear layer's [N, K] weight as the [K, N] right-hand side of `MatMul`: int8 codes with
    /// `DequantizeLinear` in an INT8 export, else f32.
    private static func transposedWeight(_ node: Node, in graph: Graph, _ w: ONNXWriter, qdq: QDQPlacement?) throws -> String {
        let id = node.inputs[1], info = graph.info(id)
        guard info.shape.count == 2 else { throw OnboardError.model(item: "node '\(node.name)' (linear)", reason: "weight must be 2-D") }
        let (n, k) = (info.shape[0], info.shape[1])
        func transpose<T>(_ values: [T]) -> [T] { (0..<(k * n)).map { values[($0 % n) * k + $0 / n] } }
        if let qdq, let (codes, scales) = int8Weight(id, in: graph, qdq) {
            let name = w.fresh(info.name + "^T")
            w.dequantizedWeight(codes: transpose(codes), shape: [k, n], scales: scales, axis: 1, output: name)
            return name
        }
        let weight = try graph.floatConstant(id).orThrow(node, "a linear weight must be a constant")
        return w.constant(info.name + "^T", shape: [k, n], transpose(weight.floats()))
    }

    /// Writes the ONNX nodes computing `node`'s output into `out`, reading `inputs`.
    private static func spell(_ node: Node, inputs: [String], out: String, in graph: Graph, _ w: ONNXWriter, qdq: QDQPlacement?) throws {
        let x = inputs.first ?? ""
        typealias A = ONNXWriter
        switch node.op {
        case .linear:
            let transposed = try transposedWeight(node, in: graph, w, qdq: qdq)
            if inputs.count == 3 {
                w.node("Add", [w.step("MatMul", [x, transposed], out + "/matmul"), inputs[2]], output: out)
            } else {
                w.node("MatMul", [x, transposed], output: out)
            }
        case let .matmul(transposeB, alpha):
            var b = inputs[1]
            if transposeB {
                let rank = graph.info(node.inputs[1]).shape.count
                b = w.step("Transpose", [b], out + "/bt", attributes: [A.attribute("perm", ints: Array(0..<(rank - 2)) + [rank - 1, rank - 2])])
            }
            if alpha == 1 {
                w.node("MatMul", [x, b], output: out)
            } else {
                w.node("Mul", [w.step("MatMul", [x, b], out + "/matmul"), w.constant(out + "/alpha", [alpha])], output: out)
            }
        case let .conv2d(p):
            let kernel = Array(graph.info(node.inputs[1]).shape.suffix(2))
            w.node("Conv", inputs, output: out, attributes: [
                A.attribute("kernel_shape", ints: kernel), A.attribute("strides", ints: [p.strideH, p.strideW]),
                A.attribute("pads", ints: [p.padH, p.padW, p.padH, p.padW]), A.attribute("dilations", ints: [p.dilationH, p.dilationW]),
                A.attribute("group", int: p.groups),
            ])
        case let .layerNorm(epsilon):
            w.node("LayerNormalization", inputs, output: out, attributes: [A.attribute("axis", int: -1), A.attribute("epsilon", float: epsilon)])
        case .gelu(approximate: false):
            let erf = w.step("Erf", [w.step("Div", [x, w.constant(out + "/sqrt2", [Float(2).squareRoot()])], out + "/scaled")], out + "/erf")
            let gate = w.step("Add", [erf, w.constant(out + "/one", [1])], out + "/gate")
            w.node("Mul", [w.step("Mul", [x, gate], out + "/product"), w.constant(out + "/half", [0.5])], output: out)
        case .gelu(approximate: true):
            let cube = w.step("Mul", [w.step("Mul", [x, x], out + "/square"), x], out + "/cube")
            let inner = w.step("Add", [x, w.step("Mul", [cube, w.constant(out + "/c", [0.044715])], out + "/cubic")], out + "/inner")
            let scaled = w.step("Mul", [inner, w.constant(out + "/k", [Float(2 / Double.pi).squareRoot()])], out + "/scaled")
            let gate = w.step("Add", [w.step("Tanh", [scaled], out + "/tanh"), w.constant(out + "/one", [1])], out + "/gate")
            w.node("Mul", [w.step("Mul", [x, w.constant(out + "/half", [0.5])], out + "/half_x"), gate], output: out)
        case .softmax: w.node("Softmax", [x], output: out, attributes: [A.attribute("axis", int: -1)])
        case .add: w.node("Add", inputs, output: out)
        case .sub: w.node("Sub", inputs, output: out)
        case .mul: w.node("Mul", inputs, output: out)
        case .div: w.node("Div", inputs, output: out)
        case .relu: w.node("Relu", [x], output: out)
        case .sigmoid: w.node("Sigmoid", [x], output: out)
        case .erf: w.node("Erf", [x], output: out)
        case .silu: w.node("Mul", [x, w.step("Sigmoid", [x], out + "/sigmoid")], output: out)
        case let .clip(low, high): w.node("Clip", [x, w.constant(out + "/min", [low]), w.constant(out + "/max", [high])], output: out)
        case let .scale(factor): w.node("Mul", [x, w.constant(out + "/factor", [factor])], output: out)
        case let .reshape(shape): w.node("Reshape", [x, w.integers(out + "/shape", shape)], output: out)
        case let .permute(permutation): w.node("Transpose", [x], output: out, attributes: [A.attribute("perm", ints: permutation)])
        case let .concat(axis): w.node("Concat", inputs, output: out, attributes: [A.attribute("axis", int: axis)])
        case let .slice(axis, start, end, step):
            w.node("Slice", [x, w.integers(out + "/starts", [start]), w.integers(out + "/ends", [end]),
                             w.integers(out + "/axes", [axis]), w.integers(out + "/steps", [step])], output: out)
        case .gather: w.node("Gather", inputs, output: out, attributes: [A.attribute("axis", int: 0)])
        case let .reduceMean(axis, keepDims):
            w.node("ReduceMean", [x], output: out, attributes: [A.attribute("axes", ints: [axis]), A.attribute("keepdims", int: keepDims ? 1 : 0)])
        case let .maxPool2d(p):
            w.node("MaxPool", [x], output: out, attributes: [
                A.attribute("kernel_shape", ints: [p.kernelH, p.kernelW]), A.attribute("strides", ints: [p.strideH, p.strideW]),
                A.attribute("pads", ints: [p.padH, p.padW, p.padH, p.padW]), A.attribute("ceil_mode", int: p.ceilMode ? 1 : 0),
            ])
        case let .upsampleNearest(height, width):
            let shape = graph.info(node.inputs[0]).shape
            w.node("Resize", [x, "", "", w.integers(out + "/sizes", [shape[0], shape[1], height, width])], output: out, attributes: [
                A.attribute("mode", string: "nearest"), A.attribute("coordinate_transformation_mode", string: "asymmetric"),
                A.attribute("nearest_mode", string: "floor"),
            ])
        case .hardSigmoid:
            w.node("HardSigmoid", [x], output: out, attributes: [A.attribute("alpha", float: 1 / 6), A.attribute("beta", float: 0.5)])
        case let .rmsNorm(epsilon):
            let meanSquare = w.step("ReduceMean", [w.step("Mul", [x, x], out + "/square")], out + "/mean_square",
                                    attributes: [A.attribute("axes", ints: [-1]), A.attribute("keepdims", int: 1)])
            let root = w.step("Sqrt", [w.step("Add", [meanSquare, w.constant(out + "/epsilon", [epsilon])], out + "/shifted")], out + "/root")
            w.node("Mul", [w.step("Div", [x, root], out + "/normalized"), inputs[1]], output: out)
        case .hadamard:
            let n = graph.info(node.inputs[0]).shape.last ?? 0
            let rotation = try Hadamard(size: n).matrix
            w.node("MatMul", [x, w.constant(out + "/rotation", shape: [n, n], rotation.values)], output: out)
        case .deformConv2d, .causalConv1d, .selectiveScan:
            throw OnboardError.model(item: "node '\(node.name)' (\(node.op.kind))", reason: "has no ONNX export yet")
        }
    }
}

private extension Optional {
    func orThrow(_ node: Node, _ reason: String) throws -> Wrapped {
        guard let value = self else { throw OnboardError.model(item: "node '\(node.name)' (\(node.op.kind))", reason: reason) }
        return value
    }
}
