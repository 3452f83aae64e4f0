import ArgumentParser
import Foundation
import OnboardKit

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Describe a bundle or a safetensors file: config, tensors, statistics.")

    @Argument(help: "A model bundle directory or a .safetensors file.") var path: String

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OnboardError.io(path: path, reason: "no such file or directory")
        }
        let weightsPath: String
        if isDirectory.boolValue {
            let bundle = try ModelBundle(directory: path)
            print("bundle \(path)")
            for key in bundle.config.keys.sorted() {
                if let graph = bundle.model as? GraphConfig, key == "graph" {
                    print("  graph: version \(graph.graph.version), \(graph.graph.nodes.count) nodes, \(graph.graph.constants.count) constants")
                    for input in graph.graph.inputs { print("    input \(input.name) \(input.dtype) \(input.shape)") }
                    print("    outputs \(graph.graph.outputs.joined(separator: ", "))")
                    continue
                }
                print("  \(key): \(Self.describe(bundle.config[key] as Any))")
            }
            weightsPath = bundle.weightsPath
        } else {
            weightsPath = path
        }
        let file = try SafeTensorsFile(path: weightsPath)
        let stored = file.entries.reduce(0) { $0 + $1.end - $1.begin }
        print("\(weightsPath): \(file.entries.count) tensors, \(stored) bytes")
        for (key, value) in file.metadata.sorted(by: { $0.key < $1.key }) { print("  metadata \(key): \(value)") }
        let width = min(file.entries.map(\.name.count).max() ?? 0, 48)
        for entry in file.entries.sorted(by: { $0.name < $1.name }) {
            let stats = TensorStatistics(file.tensor(entry))
            let name = entry.name.padding(toLength: max(width, entry.name.count), withPad: " ", startingAt: 0)
            var line = "  \(name)  \(entry.dtype.safetensorsName.padding(toLength: 4, withPad: " ", startingAt: 0))  \(entry.shape)"
            line += String(format: "  min %.6g  max %.6g  mean %.6g  std %.6g", stats.min, stats.max, stats.mean, stats.std)
            if stats.nonFiniteCount > 0 { line += "  non-finite \(stats.nonFiniteCount)" }
            print(line)
        }
    }

    static func describe(_ value: Any) -> String {
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]),
           let text = String(data: data, encoding: .utf8) {
            return text
        }
        return "\(value)"
    }
}
