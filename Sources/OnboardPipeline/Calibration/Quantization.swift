import OnboardCore
import OnboardGraph
import OnboardModels

/// The quantized bundle (int8 weights, quant.json) written from a float bundle and the plan
/// `Calibrator.calibrate` made for its graph.
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
