import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardONNX

/// What `onboard export-onnx` does: a bundle's graph for `batch` (nil: 1, or the batch a graph
/// bundle was imported with) written as an ONNX model: FP32, or with `quantized` (the quantized
/// bundle of the same model) QuantizeLinear/DequantizeLinear wherever Onboard's INT8 executor
/// stores codes, with its scales and zero points.
public enum ONNXExport {
    public static func run(model: String, quantized: String? = nil, out: String, batch: Int? = nil) throws -> (nodes: Int, bytes: Int) {
        let float = try ModelBundle(directory: model)
        try OutputPath.checkFile(out, option: "out", inputs: [.init("model", model)] + (quantized.map { [.init("quantized", $0)] } ?? []))
        let batch = batch ?? (float.model as? GraphConfig)?.batch ?? 1
        let graph: Graph, placement: QDQPlacement?
        if let quantized {
            let bundle = try ModelBundle(directory: quantized)
            // quantize and validate copy config.json as it is.
            guard try InputFile.read(bundle.configPath, what: "config file") == InputFile.read(float.configPath, what: "config file") else {
                throw OnboardError.invalidArgument("\(quantized): its config.json differs from \(float.configPath); it is not a quantized \(model)")
            }
            guard let plan = try QuantizedBundle.plan(of: bundle) else {
                throw OnboardError.invalidArgument("\(quantized): not a quantized bundle (no \(QuantizedBundle.planFile))")
            }
            let planPath = (quantized as NSString).appendingPathComponent(QuantizedBundle.planFile)
            let executor = try Int8Executor(graph: try bundle.graph(batch: batch), plan: plan, threads: 1, planSource: planPath)
            (graph, placement) = (executor.graph, try QDQPlacement(executor))
        } else {
            (graph, placement) = (try float.graph(batch: batch), nil)
        }
        let data = try ONNXExporter.model(graph, name: ((quantized ?? model) as NSString).lastPathComponent, qdq: placement)
        try AtomicFile(path: out).write(bytes: Array(data))
        return (graph.nodes.count, data.count)
    }
}
