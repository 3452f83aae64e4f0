import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

/// The one way to build a runner for a bundle: FP32, or INT8 on a quantized bundle (with the plan
/// in its `quant.json`), on `threads` worker threads. Call it with a graph (PETR builds its own),
/// or ask for the bundle's graph at a batch size. FP32 on a quantized bundle runs its int8 weights
/// dequantized with float activations: the weights' share of the INT8 error.
public struct RunnerFactory {
    public let bundle: ModelBundle
    public let precision: Precision
    public let threads: Int
    /// The quantized bundle's plan (INT8 only).
    public let plan: QuantizationPlan?
    /// Whether the bundle is quantized (has `quant.json`).
    public let bundleIsQuantized: Bool

    /// Throws when INT8 is asked of a float bundle.
    public init(bundle: ModelBundle, precision: Precision, threads: Int) throws {
        self.bundle = bundle
        self.precision = precision
        self.threads = threads
        let plan = try QuantizedBundle.plan(of: bundle)
        bundleIsQuantized = plan != nil
        switch precision {
        case .fp32:
            self.plan = nil
        case .int8:
            guard let plan else {
                throw OnboardError.invalidArgument("\(bundle.directory): precision int8 needs a quantized bundle (quant.json, written by quantize or validate)")
            }
            self.plan = plan
        }
    }

    public var planPath: String { (bundle.directory as NSString).appendingPathComponent(QuantizedBundle.planFile) }

    /// A runner of `graph`.
    public func callAsFunction(_ graph: Graph) throws -> any GraphRunner {
        guard let plan else { return try FP32Executor(graph: graph, threads: threads) }
        return try Int8Executor(graph: graph, plan: plan, threads: threads, planSource: planPath)
    }

    /// A runner of the bundle's graph for a batch of `batch`.
    public func runner(batch: Int) throws -> any GraphRunner {
        try self(try bundle.graph(batch: batch))
    }
}
