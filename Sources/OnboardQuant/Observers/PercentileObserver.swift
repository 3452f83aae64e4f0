/// Clipping range at the `percentile` (upper) and `100 - percentile` (lower) points of the data.
///
/// Memory is bounded by an adaptive histogram (`histogramBins` counters whose range doubles as needed)
/// rather than a reservoir, so the estimate is deterministic; it is exact to within one bin width
/// (`observed range / bins`, at most twice that after growth) and never leaves the observed range.
public struct PercentileObserver: RangeObserver {
    public let percentile: Double
    private var state: HistogramObserverState

    public init(item: String, options: ObserverOptions) {
        percentile = options.percentile.isFinite ? min(max(options.percentile, 50), 100) : 99.99
        state = HistogramObserverState(item: item, options: options)
    }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) throws { try state.observe(values) }

    public func calibratedRange() throws -> (min: Float, max: Float) {
        let histogram = try state.observed()
        let p = percentile / 100
        return (Float(histogram.quantile(1 - p)), Float(histogram.quantile(p)))
    }
}
