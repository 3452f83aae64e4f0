import OnboardCore

/// What an observer has gathered, as a value to save (JSON keeps every field exact), send to another
/// machine and merge there (`RangeObserver.merge`). For every kind but `ema` the state depends only
/// on the multiset of values observed, so merging the states of any split of the batches gives
/// exactly the state of observing them all in one process.
public struct ObserverState: Codable, Equatable, Sendable {
    public var kind: ObserverKind
    /// Smallest and largest value observed (for `ema`, the running averages); nil before any value.
    public var min: Double?
    public var max: Double?
    /// The histogram of the kinds that keep one (percentile, mse, quantile, kl, kl_relu).
    public var histogram: HistogramState?

    public init(kind: ObserverKind, min: Double? = nil, max: Double? = nil, histogram: HistogramState? = nil) {
        self.kind = kind
        self.min = min
        self.max = max
        self.histogram = histogram
    }
}

/// A `StreamingHistogram`'s counts on its canonical window (which follows from `min`, `max` and `bins`).
public struct HistogramState: Codable, Equatable, Sendable {
    public var bins: Int
    /// Extrema of the values binned (0 is the minimum of an |x| or positive-part histogram); nil when empty.
    public var min: Double?
    public var max: Double?
    /// Window index of `counts[0]`; the counts run from the first non-empty bin to the last.
    public var offset: Int
    public var counts: [Double]
}

extension ObserverKind {
    /// Whether states of this kind merge exactly: all but `ema`, whose running average depends on
    /// the order of the batches.
    public var mergesExactly: Bool { self != .ema }

    /// The error for merging two non-empty `ema` states (or sharding an `ema` calibration).
    public static func emaMergeError(item: String) -> OnboardError {
        let shardable = allCases.filter(\.mergesExactly).map(\.rawValue).joined(separator: ", ")
        return .invalidArgument("\(item): the ema observer's running average depends on the order of the batches, "
            + "so calibration statistics observed apart cannot be merged; observers that shard: \(shardable)")
    }
}

/// Checks that `state` is of `kind` (the error names the value and the field).
func requireKind(_ state: ObserverState, _ kind: ObserverKind, item: String) throws {
    guard state.kind == kind else {
        throw mergeMismatch(item: item, field: "kind", "this observer is \(kind.rawValue), the state merged in is \(state.kind.rawValue)")
    }
}

/// The observed extrema of `state`, checked: both absent, or finite Floats with min <= max.
func observedRange(_ state: ObserverState, item: String) throws -> (min: Float, max: Float)? {
    try checkedRange(min: state.min, max: state.max, item: item, field: "")
}

func checkedRange(min: Double?, max: Double?, item: String, field prefix: String) throws -> (min: Float, max: Float)? {
    switch (min, max) {
    case (nil, nil): return nil
    case let (lo?, hi?):
        for (name, v) in [("min", lo), ("max", hi)] where !v.isFinite || Double(Float(v)) != v {
            throw mergeMismatch(item: item, field: prefix + name, "\(v) is not a finite Float")
        }
        guard lo <= hi else { throw mergeMismatch(item: item, field: prefix + "min", "\(lo) is above the max \(hi)") }
        return (Float(lo), Float(hi))
    default:
        throw mergeMismatch(item: item, field: prefix + (min == nil ? "min" : "max"), "is missing while the other extremum is present")
    }
}

func mergeMismatch(item: String, field: String, _ reason: String) -> OnboardError {
    .model(item: item, reason: "cannot merge observer state: field '\(field)': \(reason)")
}
