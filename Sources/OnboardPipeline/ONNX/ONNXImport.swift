import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardONNX

/// What `onboard import-onnx` does: an ONNX file imported (`ONNXImporter`) and written as a graph
/// bundle (`config.json` with `"architecture": "graph"`, `model.safetensors` with the constants),
/// which is read back before it replaces anything.
public enum ONNXImport {
    public struct Request {
        public let model: String
        public let out: String
        /// Shapes for the model's inputs, by name (`--input NAME=SHAPE`).
        public let inputShapes: [String: [Int]]
        public let force: Bool
        /// For a QDQ model: where to write the INT8 bundle made from the parameters it carries.
        public let quantizedOut: String?

        public init(model: String, out: String, inputShapes: [String: [Int]] = [:], force: Bool = false, quantizedOut: String? = nil) {
            self.model = model
            self.out = out
            self.inputShapes = inputShapes
            self.force = force
            self.quantizedOut = quantizedOut
        }
    }

    public struct Summary {
        public let opset: Int
        public let producer: String
        public let nodes: Int
        public let weightBytes: Int
        public let inputs: [String: [Int]]
        public let outputs: [String: [Int]]
        public let fused: [String: Int]
        public let seconds: Double
        /// Tensors the file quantizes with Q/DQ pairs (0 for a float model).
        public let quantizedTensors: Int
        /// With `quantizedOut`: what the INT8 bundle runs how, and the ops kept in float because the
        /// file computes them in float.
        public let quantized: Quantization.Summary?
        public let keptFloat: [String]
    }

    public static func run(_ request: Request) throws -> Summary {
        let start = Date()
        try OutputPath.checkDirectory(request.out, option: "out", inputs: [.init("model", request.model)])
        if let quantizedOut = request.quantizedOut {
            try OutputPath.checkDirectory(quantizedOut, option: "quantized-out", inputs: [.init("model", request.model), .init("out", request.out)])
        }
        let imported = try ONNXImporter(path: request.model, inputShapes: request.inputShapes).run()
        if request.quantizedOut != nil, imported.quantization?.activations.isEmpty ?? true {
            throw OnboardError.invalidArgument("\(request.model) has no QuantizeLinear/DequantizeLinear pairs to take INT8 parameters from; "
                + "import it without an INT8 output and calibrate it with onboard quantize")
        }
        let graph = imported.graph
        let name = (request.model as NSString).lastPathComponent
        let source = "\(name) (ONNX opset \(imported.opset)\(imported.producer.isEmpty ? "" : ", \(imported.producer)")), onboard import-onnx"
        let config = GraphConfig(graph: GraphDescription(graph), source: source)
        let staging = try StagingDirectory(target: request.out, force: request.force)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile(path: staging.file("config.json")).write(bytes: Array(try encoder.encode(config)))
            let constants = graph.constants.map { (graph.info($0.key).name, $0.value) }.sorted { $0.0 < $1.0 }
            try SafeTensorsWriter.write(constants.map { (name: $0.0, tensor: $0.1) }, to: staging.file("model.safetensors"))
            _ = try ModelBundle(directory: staging.path).graph(batch: config.batch)
            try staging.commit()
        } catch {
            staging.discard()
            throw error
        }
        var summary: Quantization.Summary?, keptFloat: [String] = []
        if let quantizedOut = request.quantizedOut, let quantization = imported.quantization {
            (summary, keptFloat) = try writeQuantized(float: request.out, quantization: quantization, batch: config.batch, to: quantizedOut,
                                                      force: request.force)
        }
        func shapes(_ ids: [ValueID]) -> [String: [Int]] {
            Dictionary(uniqueKeysWithValues: ids.map { (graph.info($0).name, graph.info($0).shape) })
        }
        return Summary(opset: imported.opset, producer: imported.producer, nodes: graph.nodes.count, weightBytes: graph.weightBytes,
                       inputs: shapes(graph.inputs), outputs: shapes(graph.outputs), fused: imported.fused,
                       seconds: Date().timeIntervalSince(start), quantizedTensors: imported.quantization?.activations.count ?? 0,
                       quantized: summary, keptFloat: keptFloat)
    }

    /// The INT8 bundle of the float bundle at `float` with the file's parameters (`QDQPlan`), read
    /// back and built once before it replaces anything.
    private static func writeQuantized(float: String, quantization: ImportedQuantization, batch: Int, to directory: String,
                                       force: Bool) throws -> (Quantization.Summary, [String]) {
        let bundle = try ModelBundle(directory: float)
        let planPath = (directory as NSString).appendingPathComponent(QuantizedBundle.planFile)
        let qdq = try QDQPlan(graph: try bundle.graph(batch: batch), quantization: quantization, source: planPath)
        try QuantizedBundle.save(source: bundle, plan: qdq.plan, weights: qdq.weights, to: directory, force: force)
        let executor = try Int8Executor(graph: try ModelBundle(directory: directory).graph(batch: batch), plan: qdq.plan, threads: 1,
                                        planSource: planPath)
        let summary = Quantization.Summary(integerOps: executor.integerOps.count, floatOps: executor.floatOps.count,
                                           precomputedOps: executor.precomputedOps.count)
        return (summary, qdq.keptFloat)
    }

    /// `NAME=SHAPE` with the shape as `1x3x224x224` or `1,3,224,224`.
    public static func parseInputShape(_ text: String) throws -> (String, [Int]) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw OnboardError.invalidArgument("'\(text)' is not NAME=SHAPE (e.g. input=1x3x224x224)")
        }
        let dims = parts[1].split(whereSeparator: { $0 == "x" || $0 == "," }).map { Int($0) }
        guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw OnboardError.invalidArgument("'\(text)': the shape must be positive integers joined by x or commas")
        }
        return (parts[0], dims.compactMap { $0 })
    }
}
