import ArgumentParser
import OnboardKit

/// FP32 vs INT8, tensor by tensor, worst first; with --exclude, what keeping ops in float buys.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Per-tensor FP32 vs INT8 error (accumulated and isolated), sorted by damage.")

    @Option(help: "Float model bundle.") var model: String
    @Option(help: "Quantized bundle of the same model (from 'onboard quantize').") var quantized: String
    @Option(help: "safetensors file with the model's inputs.") var inputs: String
    @Option(parsing: .upToNextOption, help: "Ops to keep in float; the report shows the gain of each.") var exclude: [String] = []
    @Option(help: "Rows of the table (worst first).") var top: Int = 25
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Flag(help: "Print one JSON object.") var json = false

    mutating func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be >= 1") }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        var request = Comparison.Request(model: model, quantized: quantized, inputs: inputs)
        (request.exclude, request.threads) = (exclude, threads)
        let report = try Comparison.run(request)
        print(json ? try report.jsonText() : report.table(top: top))
    }
}
