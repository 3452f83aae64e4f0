import Foundation

/// A fixed-size histogram whose range grows by doubling, so any number of batches fits in
/// `bins` counters. Growth merges adjacent bin pairs, so old bin edges stay exact edges.
///
/// `anchoredAtZero` fixes the lower edge at 0 (for |x| or post-ReLU histograms); values fed must be >= 0.
struct StreamingHistogram {
    private(set) var counts: [Double]
    private(set) var lower: Double = 0
    private(set) var width: Double = 0
    private(set) var total: Double = 0
    private(set) var observedMin: Double = .infinity
    private(set) var observedMax: Double = -.infinity
    let anchoredAtZero: Bool

    init(bins: Int, anchoredAtZero: Bool = false) {
        let even = max(64, bins + (bins & 1))
        counts = [Double](repeating: 0, count: even)
        self.anchoredAtZero = anchoredAtZero
    }

    var binCount: Int { counts.count }
    var binWidth: Double { width / Double(counts.count) }
    var isEmpty: Bool { total == 0 }

    /// Adds finite values whose extrema are `lo`/`hi` (the caller has checked finiteness).
    mutating func add(_ values: UnsafeBufferPointer<Float>, lo: Float, hi: Float, transform: (Float) -> Float? = { $0 }) {
        let lo = Double(lo), hi = Double(hi)
        cover(lo, hi)
        let n = counts.count, scale = Double(n) / width
        for v in values {
            guard let t = transform(v) else { continue }
            let index = Int((Double(t) - lower) * scale)
            counts[min(max(index, 0), n - 1)] += 1
            total += 1
        }
    }

    private mutating func cover(_ lo: Double, _ hi: Double) {
        observedMin = min(observedMin, lo)
        observedMax = max(observedMax, hi)
        if width == 0 {
            lower = anchoredAtZero ? 0 : lo
            width = max(hi - lower, max(abs(hi), abs(lo)) * 1e-6, 1e-30)
            return
        }
        while lo < lower && !anchoredAtZero { grow(towardLower: true) }
        while hi > lower + width { grow(towardLower: false) }
    }

    private mutating func grow(towardLower: Bool) {
        let n = counts.count, half = n / 2
        var merged = [Double](repeating: 0, count: n)
        for j in 0..<half {
            merged[(towardLower ? half : 0) + j] = counts[2 * j] + counts[2 * j + 1]
        }
        counts = merged
        if towardLower { lower -= width }
        width *= 2
    }

    func center(_ bin: Int) -> Double { lower + (Double(bin) + 0.5) * binWidth }

    /// The value below which a fraction `q` of the mass lies (linear inside a bin), within the observed range.
    func quantile(_ q: Double) -> Double {
        guard total > 0 else { return 0 }
        let target = min(max(q, 0), 1) * total
        var cumulative = 0.0
        for (i, c) in counts.enumerated() where c > 0 {
            if cumulative + c >= target {
                let value = lower + (Double(i) + (target - cumulative) / c) * binWidth
                return min(max(value, observedMin), observedMax)
            }
            cumulative += c
        }
        return observedMax
    }

    /// Sum over bins of `count * |center - fakeQuant(center)|^p`: the Lp error of `params` on this data,
    /// with each value represented by its bin centre (so it is exact to within a bin width).
    func error(of params: QuantParams, p: Double) -> Double {
        var sum = 0.0
        for (i, c) in counts.enumerated() where c > 0 {
            let x = center(i)
            let e = abs(x - Double(params.fakeQuantize(Float(x))))
            sum += c * (p == 2 ? e * e : pow(e, p))
        }
        return sum
    }
}

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
}
