import Foundation
import OnboardCore
import OnboardGraph
import SwiftProtobuf

/// An ONNX model as an Onboard graph: the file read and checked, shapes fixed (symbolic
/// dimensions from `inputShapes`, a symbolic leading one 1), everything computable at import
/// folded, the rest lowered op by op (`ONNXOpTable`).
public struct ONNXImporter {
    /// Opsets of the default domain this importer reads.
    public static let opsets = 13...21

    public struct Result {
        public let graph: Graph
        public let opset: Int
        /// `producer_name producer_version` of the file.
        public let producer: String
        /// How many of each pattern `ONNXFusions` rewrote ("gelu", "layer_norm", "linear").
        public let fused: [String: Int]
        /// The parameters a QDQ model carries, by graph value; nil for a model without Q/DQ.
        public let quantization: ImportedQuantization?
    }

    public let path: String
    /// Shapes for inputs, by name; they replace the file's dimensions.
    public let inputShapes: [String: [Int]]

    public init(path: String, inputShapes: [String: [Int]] = [:]) {
        self.path = path
        self.inputShapes = inputShapes
    }

    public func run() throws -> Result {
        let model = try readModel()
        let opset = try defaultOpset(of: model)
        let decoding = TensorDecoding(modelPath: path)
        let context = ImportContext()
        guard model.graph.sparseInitializer.isEmpty else {
            throw OnboardError.format(path: path, item: "graph.sparse_initializer", reason: "sparse initializers are not supported")
        }
        for tensor in model.graph.initializer {
            guard !tensor.name.isEmpty, !context.isDefined(tensor.name) else {
                throw OnboardError.format(path: path, item: "initializer '\(tensor.name)'", reason: "has no name or repeats one")
            }
            context.define(tensor.name, .constant(try decoding.decode(tensor, item: "initializer '\(tensor.name)'")))
        }
        try defineInputs(model.graph, in: context)

        let outputs = model.graph.output.map(\.name)
        let (modelNodes, annotations) = try QDQStripping(graph: model.graph, opset: opset, decoding: decoding).apply()
        // Fusions read initializers and `Constant` outputs (looked up by name, not by scanning the nodes).
        let constantNodes = Dictionary(modelNodes.filter { $0.opType == "Constant" }.compactMap { node in
            node.output.first.map { ($0, node) }
        }, uniquingKeysWith: { first, _ in first })
        var fusions = ONNXFusions(nodes: modelNodes, graphOutputs: Set(outputs), quantized: Set(annotations.activations.keys)) { name in
            if let value = context.constant(name) { return value }
            guard let constant = constantNodes[name] else { return nil }
            return try? ConstantRules.constant.fold?(ONNXNode(proto: constant, opset: opset), []).first
        }
        let (nodes, fused) = fusions.apply()
        for proto in nodes { try lower(ONNXNode(proto: proto, opset: opset), in: context) }

        for name in outputs {
            guard case let .runtime(id)? = context.values[name], context.builder.info(id).role == .computed else {
                throw OnboardError.model(item: "output '\(name)'", reason: "is not computed by the graph (a constant, an input or undefined)")
            }
            context.builder.markOutput(id)
        }
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        let quantization = annotations.isEmpty ? nil : try ImportedQuantization(annotations, context: context)
        return Result(graph: try context.builder.build(), opset: opset, producer: producer, fused: fused, quantization: quantization)
    }

    private func readModel() throws -> Onnx_ModelProto {
        let data = try InputFile.read(path, what: "ONNX model")
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = 64
        do {
            return try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw OnboardError.format(path: path, item: nil, reason: "not a readable ONNX model (\(error))")
        }
    }

    private func defaultOpset(of model: Onnx_ModelProto) throws -> Int {
        guard let entry = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw OnboardError.format(path: path, item: "opset_import", reason: "names no opset of the default domain")
        }
        guard entry.version >= Int64(Self.opsets.lowerBound), entry.version <= Int64(Self.opsets.upperBound) else {
            throw OnboardError.format(path: path, item: "opset_import",
                                      reason: "opset \(entry.version); this importer reads opsets \(Self.opsets.lowerBound) to \(Self.opsets.upperBound)")
        }
        return Int(entry.version)
    }

    private func defineInputs(_ graph: Onnx_GraphProto, in context: ImportContext) throws {
        let declared = graph.input.filter { !context.isDefined($0.name) }
        for name in inputShapes.keys where !declared.contains(where: { $0.name == name }) {
            throw OnboardError.invalidArgument("\(path): the model has no input '\(name)' (inputs: \(declared.map(\.name).joined(separator: ", ")))")
        }
        for input in declared {
            let item = "input '\(input.name)'"
            guard input.type.tensorType.hasShape || inputShapes[input.name] != nil else {
                throw OnboardError.format(path: path, item: item, reason: "has no shape; give one with --input \(input.name)=SHAPE")
            }
            let dims = input.type.tensorType.shape.dim
            let shape = try inputShapes[input.name] ?? dims.enumerated().map { index, dim in
                if case let .dimValue(value)? = dim.value, value >= 1, value <= Int64(Int32.max) { return Int(value) }
                if index == 0 { return 1 }
                throw OnboardError.format(path: path, item: item,
                                          reason: "dimension \(index) is '\(dim.dimParam)'; give the shape with --input \(input.name)=SHAPE")
            }
            try MemoryLimit.requireAllocatable(shape, item: item, path: path)
            let dtype: DType
            switch Onnx_TensorProto.DataType(rawValue: Int(input.type.tensorType.elemType)) {
            case .float?: dtype = .f32
            case .int64?: dtype = .i64
            case .int32?: dtype = .i32
            default: throw OnboardError.format(path: path, item: item, reason: "element type \(input.type.tensorType.elemType) is not float, int32 or int64")
            }
            try context.input(input.name, shape: shape, dtype: dtype)
        }
    }

    private func lower(_ node: ONNXNode, in context: ImportContext) throws {
        guard let rule = ONNXOpTable.rule(for: node) else {
            let domain = node.proto.domain.isEmpty ? "" : " of domain '\(node.proto.domain)'"
            throw node.fail("op type \(node.opType)\(domain) is not supported (docs/onnx.md lists the supported ops)")
        }
        guard !node.outputs.isEmpty else { throw node.fail("has no outputs") }
        var known: [ConstantValue?] = []
        var allKnown = true
        for (index, name) in node.inputs.enumerated() {
            guard node.input(index) != nil else { known.append(nil); continue }
            let value = try context.value(name, for: node)
            if case let .constant(constant) = value { known.append(constant) } else { known.append(nil); allKnown = false }
        }
        let results: [ImportedValue]
        if allKnown, let fold = rule.fold {
            results = try fold(node, known).map { .constant($0) }
        } else if let lower = rule.lower {
            results = try lower(node, context)
        } else {
            throw node.fail("is supported only on values known when the model is imported")
        }
        for (name, value) in zip(node.outputs, results) where !name.isEmpty {
            guard !context.isDefined(name) else { throw node.fail("writes '\(name)', which is already defined") }
            context.define(name, value)
        }
    }
}
