import OnboardCore

/// An executor of one planned graph: `FP32Executor` or `Int8Executor`. What the workflows need of
/// either (run, profile, memory and weight figures) without asking which one it is.
public protocol GraphRunner: AnyObject {
    /// The graph it runs (node order = `memoryPlan.liveBytesPerNode` order).
    var graph: Graph { get }
    /// Where activations and scratch live.
    var memoryPlan: MemoryPlan { get }
    /// Bytes of the weights as this runner stores them.
    var weightBytes: Int { get }
    /// Attached: every op's time is recorded.
    var profiler: Profiler? { get set }
    func run(_ inputs: [String: Tensor]) throws -> [String: Tensor]
    /// How the runner stores input `name` when it takes it as u8 codes (nil: float only).
    func inputQuantization(_ name: String) -> ActivationQuant?
}

extension FP32Executor: GraphRunner {
    public var memoryPlan: MemoryPlan { plan }
    public var weightBytes: Int { plan.weightBytes }
    public func inputQuantization(_ name: String) -> ActivationQuant? { nil }
}

extension Int8Executor: GraphRunner {}
