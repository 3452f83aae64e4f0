import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant

/// FP32 against INT8, tensor by tensor (accumulated and isolated error), and what keeping named
/// ops in float buys at the model's output.
public enum Comparison {
    public struct Request {
        /// The float bundle.
        public var model: String
        /// A quantized bundle of the same model.
        public var quantized: String
        /// A .safetensors file with the model's inputs.
        public var inputs: String
        /// Ops to try in float, one at a time (and all together when there are several).
        public var exclude: [String] = []
        public var threads: Int = Parallel.coreCount

        public init(model: String, quantized: String, inputs: String) {
            self.model = model
            self.quantized = quantized
            self.inputs = inputs
        }
    }

    public static func run(_ request: Request, log: ProgressLog = .standardError) throws -> ComparisonReport {
        let floatBundle = try ModelBundle(directory: request.model)
        let quantizedBundle = try ModelBundle(directory: request.quantized)
        let runners = try RunnerFactory(bundle: quantizedBundle, precision: .int8, threads: request.threads)
        guard let plan = runners.plan else { throw OnboardError.model(item: request.quantized, reason: "no quantization plan") }
        let file = try SafeTensorsFile(path: request.inputs)
        let batch = try floatBundle.batchSize(for: file.shapes, source: request.inputs)
        let feed = try CalibrationSet(files: [request.inputs]).sample(0, shapes: floatBundle.inputShapes(batch: batch))
        let reference = try floatBundle.graph(batch: batch)
        let int8Graph = try quantizedBundle.graph(batch: batch)
        guard reference.values.map(\.name) == int8Graph.values.map(\.name) else {
            throw OnboardError.invalidArgument("\(request.quantized) is not a quantization of \(request.model): the graphs differ")
        }
        let executor = try Int8Executor(graph: int8Graph, plan: plan, threads: request.threads, planSource: runners.planPath)
        log.line("compare: FP32 and INT8 runs, then every op isolated")
        let tensors = try QuantizationDiagnosis.compare(reference: reference, quantized: executor, inputs: feed, threads: request.threads)
        let exact = try FP32Executor(graph: reference, threads: request.threads).run(feed)
        let baseline = outputMetrics(exact, try executor.run(feed))
        let outputName = reference.info(reference.outputs[0]).name
        let exclude = request.exclude
        var exclusions: [ComparisonReport.Exclusion] = []
        for names in exclude.count > 1 ? exclude.map { [$0] } + [exclude] : exclude.map { [$0] } {
            let trial = try ExclusionTrial.executor(graph: int8Graph, plan: plan, keepingFloat: names, threads: request.threads,
                                                    planSource: runners.planPath, source: "exclusions")
            let sqnr = outputMetrics(exact, try trial.run(feed))[outputName]?.sqnr ?? .nan
            exclusions.append(.init(op: names.joined(separator: "+"), outputSQNR: sqnr,
                                    gain: QuantMetrics.reported(sqnr - (baseline[outputName]?.sqnr ?? .nan))))
        }
        return ComparisonReport(outputs: baseline, floatOps: executor.floatOps, tensors: tensors, exclusions: exclusions)
    }

    static func outputMetrics(_ exact: [String: Tensor], _ test: [String: Tensor]) -> [String: QuantizationDiagnosis.Metrics] {
        var result: [String: QuantizationDiagnosis.Metrics] = [:]
        for (name, reference) in exact {
            guard let other = test[name] else { continue }
            result[name] = reference.withFloats { r in other.withFloats { QuantizationDiagnosis.Metrics(r, $0) } }
        }
        return result
    }
}
