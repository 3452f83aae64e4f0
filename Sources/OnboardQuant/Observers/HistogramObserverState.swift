/// What the histogram-backed observers share: the item name, options, and the histogram they feed.
struct HistogramObserverState {
    let item: String
    let options: ObserverOptions
    private(set) var histogram: StreamingHistogram

    init(item: String, options: ObserverOptions) {
        self.item = item
        self.options = options
        histogram = StreamingHistogram(bins: options.histogramBins)
    }

    mutating func observe(_ values: UnsafeBufferPointer<Float>) throws {
        guard let batch = try finiteExtrema(values, item: item) else { return }
        histogram.add(values, lo: batch.min, hi: batch.max)
    }

    /// The histogram, or the "nothing observed" error.
    func observed() throws -> StreamingHistogram {
        guard !histogram.isEmpty else { throw nothingObserved(item) }
        return histogram
    }

    /// The histogram's extrema are the observer's.
    func state(_ kind: ObserverKind) -> ObserverState {
        let saved = histogram.state
        return ObserverState(kind: kind, min: saved.min, max: saved.max, histogram: saved)
    }

    mutating func merge(_ other: ObserverState, kind: ObserverKind) throws {
        try requireKind(other, kind, item: item)
        guard let saved = other.histogram else { throw mergeMismatch(item: item, field: "histogram", "is missing") }
        guard other.min == saved.min, other.max == saved.max else {
            throw mergeMismatch(item: item, field: "min", "the observed range differs from the histogram's")
        }
        try histogram.merge(saved, item: item)
    }
}
