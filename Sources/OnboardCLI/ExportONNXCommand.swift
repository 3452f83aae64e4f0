import ArgumentParser
import OnboardKit

struct ExportONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-onnx",
        abstract: "Write a bundle's graph as an ONNX model (opset 17): FP32, or with --quantized QuantizeLinear/DequantizeLinear at Onboard's INT8 scales.")

    @Option(help: "Model bundle directory (float).") var model: String
    @Option(help: "Its quantized bundle (from quantize or validate): export INT8 as QDQ with that bundle's scales.") var quantized: String?
    @Option(help: "The .onnx file to write.") var out: String
    @Option(help: "Batch size of the exported graph (default 1; a graph bundle's own batch).") var batch: Int?

    mutating func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be >= 1") }
    }

    func run() throws {
        let (nodes, bytes) = try ONNXExport.run(model: model, quantized: quantized, out: out, batch: batch)
        print("wrote \(out): \(nodes) graph nodes, \(bytes) bytes, ONNX opset \(ONNXExporter.opset)")
    }
}
