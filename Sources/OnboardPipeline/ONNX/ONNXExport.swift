import Foundation
import OnboardCore
import OnboardModels
import OnboardONNX

/// What `onboard export-onnx` does: a bundle's graph for `batch` (nil: 1, or the batch a graph
/// bundle was imported with) written as an FP32 ONNX model.
public enum ONNXExport {
    public static func run(model: String, out: String, batch: Int? = nil) throws -> (nodes: Int, bytes: Int) {
        let bundle = try ModelBundle(directory: model)
        try OutputPath.checkFile(out, option: "out", inputs: [.init("model", model)])
        let batch = batch ?? (bundle.model as? GraphConfig)?.batch ?? 1
        let graph = try bundle.graph(batch: batch)
        let data = try ONNXExporter.model(graph, name: (model as NSString).lastPathComponent)
        try AtomicFile(path: out).write(bytes: Array(data))
        return (graph.nodes.count, data.count)
    }
}
