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
        @Option(help: "Target compression ratio: the float weights' 16-bit size over the delta file's size on disk (e.g. 16).")
        var ratio: Double
        @Option(help: "Delta file to write.") var out: String
        @Option(help: "Calibration inputs (.safetensors, [n, in] rows named as the weights they feed) the group size is searched on.")
        var calibration: String?
        @Option(help: "How kept values are chosen: magnitude (largest, positions stored), seeded (random, balanced per group, positions drawn again from a seed) or auto (per tensor, the one with the least error).")
        var selection: String = "auto"
        @Option(name: .customLong("low-rank"), help: "auto: per tensor, part of the budget may go to a low-rank part whose residual DeltaDQ codes (searched); off: DeltaDQ codes only.")
        var lowRank: String = "auto"
        @Flag(help: "Print the report as one JSON object.") var json = false

        func validate() throws {
            guard ratio.isFinite, ratio >= 1 else { throw ValidationError("--ratio must be a number >= 1") }
            guard ["auto", "magnitude", "seeded"].contains(selection) else { throw ValidationError("--selection must be auto, magnitude or seeded") }
            guard ["auto", "off"].contains(lowRank) else { throw ValidationError("--low-rank must be auto or off") }
        }

        func run() throws {
            try OutputPath.checkFile(out, option: "--out", inputs: [.init("--base", base), .init("--finetuned", finetuned)]
                                     + (calibration.map { [.init("--calibration", $0)] } ?? []))
            let log = ProgressLog.standardError
            let selections: [DeltaDQ.Selection] = selection == "magnitude" ? [.magnitude] : selection == "seeded" ? [.seeded] : [.magnitude, .seeded]
            let report = try DeltaFile.compress(base: base, finetuned: finetuned, ratio: ratio, out: out, calibration: calibration,
                                                selections: selections, lowRank: lowRank == "auto", progress: { log.line($0) })
            if json {
                print(try jsonLine(report))
                return
            }
            print(String(format: "delta %@: %d bytes, ratio %.2fx (target %.2fx; changed values at %.2fx), %d payload bits, %d tensors",
                         out, report.fileBytes, report.ratio, report.targetRatio, report.changedRatio, report.payloadBits, report.tensors.count))
            for t in report.tensors {
                print(String(format: "  %@  %@  %@ %@  changed rows %d  group %d  bits %d  keep %d  ratio %.2fx  rel_error %.4g  max_abs_error %.4g",
                             t.name, "\(t.shape)", t.kind, t.selection ?? "", t.changedRows, t.groupSize, t.bits, t.keepPerGroup, t.ratio, t.relativeError,
                             t.maxAbsError))
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
