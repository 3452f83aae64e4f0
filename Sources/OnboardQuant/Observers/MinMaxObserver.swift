/// Running minimum and maximum over every batch.
public struct MinMaxObserver: RangeObserver {
    public let item: String
    private var range: (min: Float, max: Float)?

    public init(item: String) { self.item = item }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) throws {
        guard let batch = try finiteExtrema(values, item: item) else { return }
        range = range.map { (min($0.min, batch.min), max($0.max, batch.max)) } ?? batch
    }

    public func calibratedRange() throws -> (min: Float, max: Float) {
        guard let range else { throw nothingObserved(item) }
        return range
    }

    public var state: ObserverState {
        ObserverState(kind: .minmax, min: range.map { Double($0.min) }, max: range.map { Double($0.max) })
    }

    public mutating func merge(_ other: ObserverState) throws {
        try requireKind(other, .minmax, item: item)
        guard let batch = try observedRange(other, item: item) else { return }
        range = range.map { (min($0.min, batch.min), max($0.max, batch.max)) } ?? batch
    }
}

/// Exponential moving average of each batch's min and max (the first batch initializes it).
public struct EMAMinMaxObserver: RangeObserver {
    public let item: String
    public let momentum: Double
    private var range: (min: Double, max: Double)?

    /// `momentum` is clamped to [0, 1]: 0 keeps only the last batch, 1 only the first.
    public init(item: String, momentum: Double) {
        self.item = item
        self.momentum = momentum.isFinite ? min(max(momentum, 0), 1) : 0.9
    }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) throws {
        guard let batch = try finiteExtrema(values, item: item) else { return }
        let b = (Double(batch.min), Double(batch.max))
        range = range.map { (momentum * $0.min + (1 - momentum) * b.0, momentum * $0.max + (1 - momentum) * b.1) } ?? b
    }

    public func calibratedRange() throws -> (min: Float, max: Float) {
        guard let range else { throw nothingObserved(item) }
        return (Float(range.min), Float(range.max))
    }

    public var state: ObserverState { ObserverState(kind: .ema, min: range?.min, max: range?.max) }

    /// Only a state with nothing observed on one side merges: a running average depends on batch order.
    public mutating func merge(_ other: ObserverState) throws {
        try requireKind(other, .ema, item: item)
        let incoming: (min: Double, max: Double)
        switch (other.min, other.max) {
        case (nil, nil): return
        case let (lo?, hi?) where lo.isFinite && hi.isFinite && lo <= hi: incoming = (lo, hi)
        default: throw mergeMismatch(item: item, field: "min", "the running averages \(String(describing: other.min)), \(String(describing: other.max)) are not a range")
        }
        guard range == nil else { throw ObserverKind.emaMergeError(item: item) }
        range = incoming
    }
}
