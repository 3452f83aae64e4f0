import ArgumentParser
import OnboardKit

struct ExportONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-onnx", abstract: "Write a bundle's graph as an FP32 ONNX model (opset 17).")

    @Option(help: "Model bundle directory.") var model: String
    @Option(help: "The .onnx file to write.") var out: String
    @Option(help: "Batch size of the exported graph (default 1; a graph bundle's own batch).") var batch: Int?

    mutating func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be >= 1") }
    }

    func run() throws {
        let (nodes, bytes) = try ONNXExport.run(model: model, out: out, batch: batch)
        print("wrote \(out): \(nodes) graph nodes, \(bytes) bytes, ONNX opset \(ONNXExporter.opset)")
    }
}
