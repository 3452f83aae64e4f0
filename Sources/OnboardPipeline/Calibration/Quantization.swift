import OnboardCore
import OnboardGraph
import OnboardModels

/// Calibrate, then save: a float bundle's graph calibrated on a set of inputs, and the quantized
/// bundle (int8 weights, quant.json) written to a directory.
public enum Quantization {
    /// What the quantized bundle runs how.
    public struct Summary: Sendable {
        public var integerOps: Int
        public var floatOps: Int
        /// Ops on constants only, computed once when the executor is built.
        public var precomputedOps: Int

        public var text: String {
            "\(integerOps) integer ops, \(floatOps) float ops, \(precomputedOps) computed once from constants"
        }
    }

    /// The plan of `graph` under `recipe`, from `count` samples (`sample(i)`: the graph's inputs).
    public static func calibrate(graph: Graph, recipe: QuantizationRecipe, count: Int, threads: Int,
                                 sample: (Int) throws -> [String: Tensor], label: String, log: ProgressLog) throws -> QuantizationPlan {
        try Calibrator.calibrate(graph: graph, recipe: recipe, count: count, threads: threads, sample: sample,
                                 progress: { log.progress(label, $0, $1) })
    }

    /// Writes `bundle` quantized by `plan` to `directory` (absent, empty or an earlier Onboard
    /// output unless `force`).
    @discardableResult
    public static func save(bundle: ModelBundle, graph: Graph, plan: QuantizationPlan, threads: Int, to directory: String,
                            force: Bool = false) throws -> Summary {
        let executor = try Int8Executor(graph: graph, plan: plan, threads: threads)
        try QuantizedBundle.save(source: bundle, plan: plan, weights: executor.quantizedWeights(), to: directory, force: force)
        return Summary(integerOps: executor.integerOps.count, floatOps: executor.floatOps.count,
                       precomputedOps: executor.precomputedOps.count)
    }
}
