import Foundation

/// Entropy (KL) calibration in the TensorRT style, plus CFWS's variant for outputs followed by ReLU.
///
/// `kl`: a histogram of |x| over [0, max|x|]; for each candidate threshold bin i, P is the histogram
/// cut at i with the clipped tail added to its last bin, Q is P merged into `levels` buckets and spread
/// back evenly over each bucket's non-empty bins; the threshold with the least KL(P||Q) wins. `levels` is
/// 2^(bits-1) (the magnitude half of a signed code range), or 2^bits when the data never go negative and
/// the quantizer is asymmetric. The range is `[-t, t]` clipped to the observed range.
///
/// `kl_relu` (CFWS's "improved KL"; its code is private, this is our reading): a ReLU follows, so every
/// value <= 0 ends up exactly 0 and carries no quantization error. Those values are left out of the
/// histogram entirely (plain KL would let their mass, and the |x| of the negatives, steer the threshold),
/// the positive part alone is calibrated with all 2^bits unsigned levels, and the range is `[0, t]`.
public struct KLObserver: RangeObserver {
    public let item: String
    public let reluFollows: Bool
    let options: ObserverOptions
    private var histogram: StreamingHistogram
    private var observedMin = Float.infinity, observedMax = -Float.infinity

    public init(item: String, options: ObserverOptions, reluFollows: Bool) {
        self.item = item
        self.options = options
        self.reluFollows = reluFollows
        histogram = StreamingHistogram(bins: options.histogramBins, anchoredAtZero: true)
    }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) throws {
        guard let batch = try finiteExtrema(values, item: item) else { return }
        observedMin = min(observedMin, batch.min)
        observedMax = max(observedMax, batch.max)
        if reluFollows {
            guard batch.max > 0 else { return }
            histogram.add(values, lo: 0, hi: batch.max) { $0 > 0 ? $0 : nil }
        } else {
            histogram.add(values, lo: 0, hi: max(-batch.min, batch.max)) { abs($0) }
        }
    }

    public var state: ObserverState {
        let observed = observedMin <= observedMax
        return ObserverState(kind: kind, min: observed ? Double(observedMin) : nil, max: observed ? Double(observedMax) : nil,
                             histogram: histogram.state)
    }

    public mutating func merge(_ other: ObserverState) throws {
        try requireKind(other, kind, item: item)
        guard let saved = other.histogram else { throw mergeMismatch(item: item, field: "histogram", "is missing") }
        guard let range = try observedRange(other, item: item) else {
            guard saved.min == nil else { throw mergeMismatch(item: item, field: "min", "is missing while the histogram has values") }
            return
        }
        try histogram.merge(saved, item: item)
        observedMin = min(observedMin, range.min)
        observedMax = max(observedMax, range.max)
    }

    private var kind: ObserverKind { reluFollows ? .klRelu : .kl }

    public func calibratedRange() throws -> (min: Float, max: Float) {
        guard observedMin <= observedMax else { throw nothingObserved(item) }
        let bits = min(max(options.bits, 2), 16)
        if reluFollows {
            guard !histogram.isEmpty else { return (0, 0) }
            return (0, min(Float(threshold(levels: 1 << bits)), observedMax))
        }
        let unsignedData = observedMin >= 0 && !options.symmetric
        let t = Float(threshold(levels: unsignedData ? 1 << bits : 1 << (bits - 1)))
        return (max(observedMin, -t), min(observedMax, t))
    }

    /// The KL-optimal clipping threshold on the |x| (or positive-part) histogram.
    func threshold(levels: Int) -> Double {
        let counts = histogram.counts
        let n = counts.count
        guard let last = counts.lastIndex(where: { $0 > 0 }) else { return 0 }
        let used = last + 1
        if used <= levels { return Double(used) * histogram.binWidth }
        var tail = [Double](repeating: 0, count: n + 1)  // tail[i] = sum of counts[i...]
        for i in stride(from: n - 1, through: 0, by: -1) { tail[i] = tail[i + 1] + counts[i] }
        let stride = max(1, (used - levels) / 256)
        var best = (kl: Double.infinity, bins: used)
        var p = [Double](repeating: 0, count: used), q = [Double](repeating: 0, count: used)
        for i in Swift.stride(from: levels, through: used, by: stride) {
            for j in 0..<i { p[j] = counts[j] }
            p[i - 1] += tail[i]
            // Merge counts[0..<i] (unclipped) into `levels` buckets and spread each over its non-empty bins.
            for k in 0..<levels {
                let start = k * i / levels, end = (k + 1) * i / levels
                var sum = 0.0, nonEmpty = 0
                for j in start..<end where counts[j] > 0 {
                    sum += counts[j]
                    nonEmpty += 1
                }
                for j in start..<end { q[j] = counts[j] > 0 ? sum / Double(nonEmpty) : 0 }
            }
            let kl = Self.divergence(p[0..<i], q[0..<i])
            if kl < best.kl { best = (kl, i) }
        }
        return Double(best.bins) * histogram.binWidth
    }

    private static func divergence(_ p: ArraySlice<Double>, _ q: ArraySlice<Double>) -> Double {
        let sp = p.reduce(0, +), sq = q.reduce(0, +)
        guard sp > 0, sq > 0 else { return .infinity }
        var sum = 0.0
        for (a, b) in zip(p, q) where a > 0 {
            let pa = a / sp, qb = max(b / sq, 1e-12)
            sum += pa * log(pa / qb)
        }
        return sum
    }
}
