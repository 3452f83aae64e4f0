import OnboardCore

extension StreamingHistogram {
    /// The counts trimmed to the non-empty bins, with the extrema that fix the window.
    var state: HistogramState {
        guard total > 0, let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else {
            return HistogramState(bins: binCount, min: nil, max: nil, offset: 0, counts: [])
        }
        return HistogramState(bins: binCount, min: observedMin, max: observedMax, offset: first, counts: Array(counts[first...last]))
    }

    /// Adds the values of a saved histogram of the same bin count and anchoring; throws naming `item`
    /// and the field if the state is not one a `StreamingHistogram` could have written.
    mutating func merge(_ state: HistogramState, item: String) throws {
        guard state.bins == binCount else {
            throw mergeMismatch(item: item, field: "histogram.bins", "this observer has \(binCount) bins, the state merged in \(state.bins)")
        }
        guard let range = try checkedRange(min: state.min, max: state.max, item: item, field: "histogram.") else {
            guard state.counts.isEmpty, state.offset == 0 else {
                throw mergeMismatch(item: item, field: "histogram.counts", "an empty histogram (no min and max) has counts")
            }
            return
        }
        if anchoredAtZero && range.min != 0 {
            throw mergeMismatch(item: item, field: "histogram.min", "is \(range.min); a histogram of |x| or of positive values starts at 0")
        }
        guard state.offset >= 0, !state.counts.isEmpty, state.offset <= binCount - state.counts.count else {
            throw mergeMismatch(item: item, field: "histogram.offset", "\(state.counts.count) counts from bin \(state.offset) do not fit \(binCount) bins")
        }
        var sum = 0.0
        for c in state.counts where !(c >= 0 && c == c.rounded() && c <= Self.exactCountLimit) {
            throw mergeMismatch(item: item, field: "histogram.counts", "\(c) is not a count")
        }
        for c in state.counts { sum += c }
        guard state.counts.first ?? 0 > 0, state.counts.last ?? 0 > 0 else {
            throw mergeMismatch(item: item, field: "histogram.counts", "the first and last counts must be non-zero")
        }
        guard sum + total <= Self.exactCountLimit else {
            throw mergeMismatch(item: item, field: "histogram.counts", "more than 2^53 values in all, beyond exact counting")
        }
        merge(StreamingHistogram(bins: binCount, anchoredAtZero: anchoredAtZero, min: Double(range.min), max: Double(range.max),
                                 counts: state.counts, from: state.offset, total: sum))
    }

    /// Counts stay exact integers in a Double up to 2^53.
    static var exactCountLimit: Double { 9_007_199_254_740_992 }
}
