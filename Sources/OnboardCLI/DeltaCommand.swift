import ArgumentParser
import Foundation
import OnboardKit

/// `onboard delta compress|apply`: DeltaDQ compression of a fine-tuned model against its base.
struct DeltaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delta", abstract: "Compress a fine-tuning delta (DeltaDQ) or apply one to a base model.",
        subcommands: [Compress.self, Apply.self])

    struct Compress: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compress", abstract: "Write the DeltaDQ-compressed difference finetuned - base.")

        @Option(help: "Base model weights (.safetensors).") var base: String
        @Option(help: "Fine-tuned weights with the same tensor names and shapes.") var finetuned: String
        @Option(help: "Target compression ratio against a 16-bit delta (e.g. 16).") var ratio: Double
        @Option(help: "Delta file to write.") var out: String
        @Flag(help: "Print the report as one JSON object.") var json = false

        func validate() throws {
            guard ratio.isFinite, ratio >= 1 else { throw ValidationError("--ratio must be a number >= 1") }
        }

        func run() throws {
            try OutputPath.checkFile(out, option: "--out", inputs: [.init("--base", base), .init("--finetuned", finetuned)])
            let report = try DeltaFile.compress(base: base, finetuned: finetuned, ratio: ratio, out: out)
            if json {
                print(try jsonLine(report))
                return
            }
            print(String(format: "delta %@: ratio %.2fx (target %.2fx), %d payload bits, %d tensors",
                         out, report.ratio, report.targetRatio, report.payloadBits, report.tensors.count))
            for t in report.tensors {
                print(String(format: "  %@  %@  group %d  bits %d  keep %d  ratio %.2fx  rel_error %.4g  max_abs_error %.4g",
                             t.name, "\(t.shape)", t.groupSize, t.bits, t.keepPerGroup, t.ratio, t.relativeError, t.maxAbsError))
            }
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply", abstract: "Write base + delta as full weights.")

        @Option(help: "Base model weights (.safetensors).") var base: String
        @Option(help: "Delta file written by 'onboard delta compress'.") var delta: String
        @Option(help: "Weights file to write.") var out: String
        @Flag(help: "Print the result as one JSON object.") var json = false

        func run() throws {
            try OutputPath.checkFile(out, option: "--out", inputs: [.init("--base", base), .init("--delta", delta)])
            let report = try DeltaFile.apply(base: base, delta: delta, out: out)
            if json {
                print(try jsonLine(report))
                return
            }
            print(String(format: "wrote %@: %d tensors (base + delta), delta ratio %.2fx", out, report.tensors.count, report.ratio))
            for t in report.tensors {
                print(String(format: "  %@  ratio %.2fx  max_abs_delta %.4g", t.name, t.ratio, t.maxAbsDelta))
            }
        }
    }
}

/// One JSON object on one line, keys sorted.
private func jsonLine<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
