/// Clipping range at the `percentile` (upper) and `100 - percentile` (lower) points of the data.
///
/// Memory is bounded by an adaptive histogram (`histogramBins` counters whose bins coarsen as needed)
/// rather than a reservoir, so the estimate is deterministic and merges exactly (see `StreamingHistogram`);
/// it is exact to within one bin width (under `2 * observed range / (bins - 1)`, or the Float spacing of
/// the data) and never leaves the observed range.
public struct PercentileObserver: RangeObserver {
    public let percentile: Double
    private var data: HistogramObserverState

    public init(item: String, options: ObserverOptions) {
        percentile = options.percentile.isFinite ? min(max(options.percentile, 50), 100) : 99.99
        data = HistogramObserverState(item: item, options: options)
    }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) throws { try data.observe(values) }
    public var state: ObserverState { data.state(.percentile) }
    public mutating func merge(_ other: ObserverState) throws { try data.merge(other, kind: .percentile) }

    public func calibratedRange() throws -> (min: Float, max: Float) {
        let histogram = try data.observed()
        let p = percentile / 100
        return (Float(histogram.quantile(1 - p)), Float(histogram.quantile(p)))
    }
}
