import ArgumentParser
import Foundation
import OnboardKit

struct ImportONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-onnx", abstract: "Convert an ONNX model (opsets 13 to 21) into a graph bundle every command takes.")

    @Argument(help: "The .onnx file (external data beside it is read).") var model: String
    @Option(help: "Bundle directory to write.") var out: String
    @Option(name: .customLong("input"), help: """
        NAME=SHAPE for an input, e.g. input=1x3x224x224 (repeatable). Needed for symbolic dimensions other than \
        a leading batch, which is 1 unless given here.
        """) var inputs: [String] = []
    @Option(name: .customLong("quantized-out"), help: """
        For a QDQ model (onnxruntime quantize_static): also write the INT8 bundle made from the scales, zero points and \
        int8 weights it carries, no calibration (run it like a bundle onboard quantize wrote: --precision int8).
        """) var quantizedOut: String?
    @Flag(help: "Replace --out and --quantized-out even if they hold files Onboard did not write.") var force = false

    private var shapes: [String: [Int]] = [:]

    mutating func validate() throws {
        for text in inputs {
            guard let (name, shape) = try? ONNXImport.parseInputShape(text) else {
                throw ValidationError("--input '\(text)' is not NAME=SHAPE with positive dimensions (e.g. input=1x3x224x224)")
            }
            guard shapes.updateValue(shape, forKey: name) == nil else { throw ValidationError("--input \(name) is given twice") }
        }
    }

    func run() throws {
        let summary = try ONNXImport.run(ONNXImport.Request(model: model, out: out, inputShapes: shapes, force: force,
                                                                quantizedOut: quantizedOut))
        func describe(_ shapes: [String: [Int]]) -> String {
            shapes.keys.sorted().map { "\($0) \(shapes[$0] ?? [])" }.joined(separator: ", ")
        }
        print("wrote \(out): \(summary.nodes) nodes, \(summary.weightBytes) bytes of weights, opset \(summary.opset)")
        print("  inputs:  \(describe(summary.inputs))")
        print("  outputs: \(describe(summary.outputs))")
        if !summary.fused.isEmpty {
            print("  fused:   " + summary.fused.keys.sorted().map { "\(summary.fused[$0] ?? 0) \($0)" }.joined(separator: ", "))
        }
        if let quantized = summary.quantized, let quantizedOut {
            print("wrote \(quantizedOut): INT8 with the file's parameters for \(summary.quantizedTensors) tensors; \(quantized.text)")
            if !summary.keptFloat.isEmpty {
                print("  kept in float (the file computes them in float): \(summary.keptFloat.joined(separator: ", "))")
            }
        } else if summary.quantizedTensors > 0 {
            print("  the file quantizes \(summary.quantizedTensors) tensors (QDQ); --quantized-out QDIR writes the INT8 bundle with its parameters")
        }
        print(String(format: "  import took %.2f s", summary.seconds))
    }
}
