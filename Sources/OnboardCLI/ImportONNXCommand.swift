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
    @Flag(help: "Replace --out even if it holds files Onboard did not write.") var force = false

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
        let summary = try ONNXImport.run(ONNXImport.Request(model: model, out: out, inputShapes: shapes, force: force))
        func describe(_ shapes: [String: [Int]]) -> String {
            shapes.keys.sorted().map { "\($0) \(shapes[$0] ?? [])" }.joined(separator: ", ")
        }
        print("wrote \(out): \(summary.nodes) nodes, \(summary.weightBytes) bytes of weights, opset \(summary.opset)")
        print("  inputs:  \(describe(summary.inputs))")
        print("  outputs: \(describe(summary.outputs))")
        if !summary.fused.isEmpty {
            print("  fused:   " + summary.fused.keys.sorted().map { "\(summary.fused[$0] ?? 0) \($0)" }.joined(separator: ", "))
        }
        print(String(format: "  import took %.2f s", summary.seconds))
    }
}
