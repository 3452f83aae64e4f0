import Foundation
import OnboardCore
import OnboardEval
import OnboardGraph
import OnboardModels
import OnboardQuant

/// `validate`'s per-layer error: `onboard compare`'s diagnosis (accumulated and isolated SQNR of
/// every tensor) on a few samples, pooled; then the layers worst in isolation kept in float one at a
/// time, as `compare --exclude` does, with the gain each brings to the detection outputs.
struct ValidationDiagnosis {
    var layers: [ValidationReport.LayerSQNR] = []
    var exclusions: [ValidationReport.Exclusion] = []
    /// Output SQNR (dB) of the full INT8 run: mean over the detection outputs, pooled over samples.
    var outputSQNR = Double.nan

    /// The graph outputs the exclusion gain is measured on.
    static let detectionOutputs = ["cls_scores", "bbox_raw"]

    /// - Parameters:
    ///   - inputs: graph inputs of the diagnosis samples (`images`, `coords3d`).
    ///   - candidates: how many of the worst isolated layers to try in float.
    static func run(reference: Graph, quantized: Graph, plan: QuantizationPlan, planSource: String,
                    inputs: [[String: Tensor]], candidates: Int, threads: Int, log: ProgressLog) throws -> Self {
        guard !inputs.isEmpty else { return Self() }
        let executor = try Int8Executor(graph: quantized, plan: plan, threads: threads, planSource: planSource)
        var rows: [String: [QuantizationDiagnosis.TensorReport]] = [:]
        for (i, feed) in inputs.enumerated() {
            for row in try QuantizationDiagnosis.compare(reference: reference, quantized: executor, inputs: feed, threads: threads) {
                rows[row.name, default: []].append(row)
            }
            log.progress("validate: per-layer diagnosis", i + 1, inputs.count)
        }
        var result = Self()
        result.layers = rows.values.compactMap { ValidationReport.LayerSQNR(merging: $0) }.sorted { $0.name < $1.name }
        let float = try FP32Executor(graph: reference, threads: threads)
        let exact = try inputs.map { try float.run($0) }
        result.outputSQNR = try outputSQNR(exact: exact, executor: executor, inputs: inputs)

        let nodeByTensor = Dictionary(quantized.nodes.map { (quantized.info($0.output).name, $0.name) }, uniquingKeysWith: { a, _ in a })
        let tried = rows.values.compactMap { group -> (node: String, isolated: Double)? in
            guard let row = group.first, row.execution == Int8Executor.Execution.integer.rawValue
                    || row.execution == Int8Executor.Execution.floatIsland.rawValue,
                  let node = nodeByTensor[row.name] else { return nil }
            let isolated = ValidationReport.LayerSQNR.pooledDB(group.map(\.isolated.sqnr))
            return isolated.isNaN ? nil : (node, isolated)
        }.sorted { ($0.isolated, $0.node) < ($1.isolated, $1.node) }.prefix(candidates)
        // An op kept in float still reads its input quantized, so each trial also keeps the op's
        // producers in float: the tensor that is damaged by quantization then never is.
        let producerOf = Dictionary(quantized.nodes.map { ($0.output, $0.name) }, uniquingKeysWith: { a, _ in a })
        let nodeNamed = Dictionary(quantized.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (index, candidate) in tried.enumerated() {
            let producers = nodeNamed[candidate.node]?.inputs.compactMap { producerOf[$0] } ?? []
            let group = producers + [candidate.node]
            let kept = try ExclusionTrial.executor(graph: quantized, plan: plan, keepingFloat: group, threads: threads,
                                                   planSource: planSource, source: planSource)
            let sqnr = try outputSQNR(exact: exact, executor: kept, inputs: inputs)
            result.exclusions.append(ValidationReport.Exclusion(op: group.joined(separator: " + "), gain: QuantMetrics.reported(sqnr - result.outputSQNR), unit: .dB))
            log.progress("validate: exclusion trials", index + 1, tried.count)
        }
        // Largest gain first (NaN last), then by name.
        let key = { (e: ValidationReport.Exclusion) in e.gain.isNaN ? -Double.infinity : e.gain }
        result.exclusions.sort { (key($0), $1.op) > (key($1), $0.op) }
        return result
    }

    /// SQNR of the detection outputs, mean over outputs, pooled over samples.
    static func outputSQNR(exact: [[String: Tensor]], executor: Int8Executor, inputs: [[String: Tensor]]) throws -> Double {
        var perOutput: [Double] = []
        var bySample: [String: [Double]] = [:]
        for (reference, feed) in zip(exact, inputs) {
            let test = try executor.run(feed)
            for name in detectionOutputs {
                guard let r = reference[name], let t = test[name] else {
                    throw OnboardError.model(item: "PETR graph", reason: "no output '\(name)' to compare")
                }
                bySample[name, default: []].append(r.withFloats { a in t.withFloats { QuantizationDiagnosis.Metrics(a, $0).sqnr } })
            }
        }
        for name in detectionOutputs { perOutput.append(ValidationReport.LayerSQNR.pooledDB(bySample[name] ?? [])) }
        return perOutput.reduce(0, +) / Double(perOutput.count)
    }
}
