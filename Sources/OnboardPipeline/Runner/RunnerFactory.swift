import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

/// The one way to build a runner for a bundle: FP32 on a float bundle, INT8 on a quantized one
/// (with the plan in its `quant.json`), on `threads` worker threads. Call it with a graph (PETR
/// builds its own), or ask for the bundle's graph at a batch size.
public struct RunnerFactory {
    public let bundle: ModelBundle
    public let precision: Precision
    public let threads: Int
    /// The quantized bundle's plan (INT8 only).
    public let plan: QuantizationPlan?

    /// Throws when the precision does not suit the bundle: INT8 needs a quantized bundle, and a
    /// quantized bundle (int8 weight codes) runs only in INT8.
    public init(bundle: ModelBundle, precision: Precision, threads: Int) throws {
        self.bundle = bundle
        self.precision = precision
        self.threads = threads
        let plan = try QuantizedBundle.plan(of: bundle)
        switch precision {
        case .fp32:
            if plan != nil {
                throw OnboardError.invalidArgument("\(bundle.directory): a quantized bundle runs in int8 precision")
            }
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
