import ArgumentParser
import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant

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

    struct Exclusion: Encodable {
        let op: String
        let outputSQNR: Double
        let gain: Double
        enum CodingKeys: String, CodingKey { case op, outputSQNR = "output_sqnr_db", gain = "gain_db" }
    }

    struct Report: Encodable {
        let outputs: [String: QuantizationDiagnosis.Metrics]
        let floatOps: [String]
        let tensors: [QuantizationDiagnosis.TensorReport]
        let exclusions: [Exclusion]
        enum CodingKeys: String, CodingKey { case outputs, floatOps = "float_ops", tensors, exclusions }
    }

    func run() throws {
        let floatBundle = try ModelBundle(directory: model)
        let quantizedBundle = try ModelBundle(directory: quantized)
        guard let plan = try QuantizedBundle.plan(of: quantizedBundle) else {
            throw OnboardError.invalidArgument("\(quantized): not a quantized bundle (no quant.json); run 'onboard quantize' first")
        }
        let file = try SafeTensorsFile(path: inputs)
        let batch = try floatBundle.batchSize(for: file.shapes, source: inputs)
        let feed = try CalibrationSet(files: [inputs]).sample(0, shapes: floatBundle.inputShapes(batch: batch))
        let reference = try floatBundle.graph(batch: batch)
        let int8Graph = try quantizedBundle.graph(batch: batch)
        guard reference.values.map(\.name) == int8Graph.values.map(\.name) else {
            throw OnboardError.invalidArgument("\(quantized) is not a quantization of \(model): the graphs differ")
        }
        let planSource = (quantized as NSString).appendingPathComponent(QuantizedBundle.planFile)
        let executor = try Int8Executor(graph: int8Graph, plan: plan, threads: threads, planSource: planSource)
        StandardError.line("compare: FP32 and INT8 runs, then every op isolated")
        let tensors = try QuantizationDiagnosis.compare(reference: reference, quantized: executor, inputs: feed, threads: threads)
        let exact = try FP32Executor(graph: reference, threads: threads).run(feed)
        let baseline = try outputMetrics(exact, try executor.run(feed))
        let outputName = reference.info(reference.outputs[0]).name
        var exclusions: [Exclusion] = []
        let candidates = exclude.count > 1 ? exclude.map { [$0] } + [exclude] : exclude.map { [$0] }
        for names in candidates {
            var variant = plan
            variant.recipe.keepFloat += names
            try variant.recipe.validate(against: int8Graph, source: "--exclude")
            let metrics = try outputMetrics(exact, try Int8Executor(graph: int8Graph, plan: variant, threads: threads).run(feed))
            let sqnr = metrics[outputName]?.sqnr ?? .nan
            exclusions.append(Exclusion(op: names.joined(separator: "+"), outputSQNR: sqnr, gain: QuantMetrics.reported(sqnr - (baseline[outputName]?.sqnr ?? .nan))))
        }
        let report = Report(outputs: baseline, floatOps: executor.floatOps, tensors: tensors, exclusions: exclusions)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(table(report))
        }
    }

    private func outputMetrics(_ exact: [String: Tensor], _ test: [String: Tensor]) throws -> [String: QuantizationDiagnosis.Metrics] {
        var result: [String: QuantizationDiagnosis.Metrics] = [:]
        for (name, reference) in exact {
            guard let other = test[name] else { continue }
            result[name] = reference.withFloats { r in other.withFloats { QuantizationDiagnosis.Metrics(r, $0) } }
        }
        return result
    }

    private func table(_ r: Report) -> String {
        var lines: [String] = []
        for (name, m) in r.outputs.sorted(by: { $0.key < $1.key }) {
            lines.append(String(format: "output %@: SQNR %.2f dB, cosine %.6f, max error %.4g", name, m.sqnr, m.cosine, m.maxError))
        }
        lines.append("ops run in float: \(r.floatOps.count)")
        lines.append(String(format: "%-40@ %-12@ %-12@ %28@ %28@", "tensor" as NSString, "op" as NSString, "runs as" as NSString,
                            "accumulated SQNR/cos/max" as NSString, "isolated SQNR/cos/max" as NSString))
        for t in r.tensors.prefix(top) {
            lines.append(String(format: "%-40@ %-12@ %-12@ %8.2f %9.6f %9.3g %8.2f %9.6f %9.3g",
                                t.name as NSString, t.op as NSString, t.execution as NSString,
                                t.accumulated.sqnr, t.accumulated.cosine, t.accumulated.maxError,
                                t.isolated.sqnr, t.isolated.cosine, t.isolated.maxError))
        }
        for e in r.exclusions {
            lines.append(String(format: "keep %@ in float: output SQNR %.2f dB (%+.2f dB)", e.op, e.outputSQNR, e.gain))
        }
        return lines.joined(separator: "\n")
    }
}
