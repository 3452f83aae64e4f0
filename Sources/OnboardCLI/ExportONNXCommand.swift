import ArgumentParser
import OnboardKit

struct ExportONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-onnx", abstract: "Write a bundle's graph as an FP32 ONNX model (opset 17).")

    @Option(help: "Model bundle directory.") var model: String
    @Option(help: "The .onnx file to write.") var out: String

    func run() throws {
        let (nodes, bytes) = try ONNXExport.run(model: model, out: out)
        print("wrote \(out): \(nodes) graph nodes, \(bytes) bytes, ONNX opset \(ONNXExporter.opset)")
    }
}
