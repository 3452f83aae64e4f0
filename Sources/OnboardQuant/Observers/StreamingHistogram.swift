import Foundation

/// A fixed-size histogram on a dyadic grid whose state depends only on the multiset of values
/// added, never on their order or on how they were split into batches, so histograms of disjoint
/// parts merge into exactly the histogram of the whole.
///
/// Bins are `[k * 2^e, (k + 1) * 2^e)` for integers k. The window is the `bins` bins from the one
/// holding the observed minimum, at the smallest e whose window holds the observed maximum, but never
/// finer than the Float spacing (ulp) at the largest |value|. Both choices depend on the observed
/// minimum and maximum alone, and e only grows as they spread, so growing or merging re-bins old
/// counts by summing whole bins, which is exact, and a value lands in the same bin whether it was
/// added before or after the growth (its bin index is `floor(x * 2^-e)`, an exact power-of-two
/// scaling of a Float). Counts are integers in Doubles, exact below 2^53 values.
///
/// Accuracy: unless e is at the ulp floor (bins as fine as the data's own Float spacing), the window
/// one level finer did not hold the data (its first and last bins were `bins` or more apart), so the
/// data span at least `(bins + 1) / 2` bins: at worst just over half the bins are in use, as in the
/// earlier grow-by-doubling histogram, and a bin is narrower than `2 * (max - min) / (bins - 1)`.
///
/// `anchoredAtZero` (for |x| or post-ReLU histograms; values fed must be >= 0) puts the observed
/// minimum at 0, so the window starts at 0.
struct StreamingHistogram {
    private(set) var counts: [Double]
    /// Bin width 2^exponent; the window's lower edge is `lowerIndex * 2^exponent`.
    private(set) var exponent = 0
    private(set) var lowerIndex = 0
    private(set) var total: Double = 0
    private(set) var observedMin: Double = .infinity
    private(set) var observedMax: Double = -.infinity
    let anchoredAtZero: Bool

    /// `bins` is rounded up to an even count of at least 64 (and capped at 2^24).
    init(bins: Int, anchoredAtZero: Bool = false) {
        counts = [Double](repeating: 0, count: Self.evenBinCount(bins))
        self.anchoredAtZero = anchoredAtZero
    }

    /// A saved histogram: `counts` from window bin `start` on the canonical window of [min, max]
    /// (the caller has checked that they fit and sum to `total`).
    init(bins: Int, anchoredAtZero: Bool, min: Double, max: Double, counts saved: [Double], from start: Int, total: Double) {
        self.init(bins: bins, anchoredAtZero: anchoredAtZero)
        observedMin = min
        observedMax = max
        (exponent, lowerIndex) = Self.window(min: min, max: max, bins: counts.count)
        counts.replaceSubrange(start..<(start + saved.count), with: saved)
        self.total = total
    }

    static func evenBinCount(_ requested: Int) -> Int {
        let clamped = min(max(requested, 64), 1 << 24)
        return clamped + (clamped & 1)
    }

    var binCount: Int { counts.count }
    var binWidth: Double { Self.powerOfTwo(exponent) }
    var lower: Double { Double(lowerIndex) * binWidth }
    var isEmpty: Bool { total == 0 }

    /// Adds finite values whose extrema are `lo`/`hi` (the caller has checked finiteness).
    mutating func add(_ values: UnsafeBufferPointer<Float>, lo: Float, hi: Float, transform: (Float) -> Float? = { $0 }) {
        cover(Double(lo), Double(hi))
        let n = counts.count, scale = Self.powerOfTwo(-exponent), first = lowerIndex
        for v in values {
            guard let t = transform(v) else { continue }
            let index = Int((Double(t) * scale).rounded(.down)) - first
            counts[min(max(index, 0), n - 1)] += 1
            total += 1
        }
    }

    /// Adds the counts of `other` (same bin count, same anchoring); the result is the histogram of
    /// both histograms' values together.
    mutating func merge(_ other: StreamingHistogram) {
        guard !other.isEmpty else { return }
        cover(other.observedMin, other.observedMax)
        Self.rebin(other.counts, exponent: other.exponent, lowerIndex: other.lowerIndex,
                   into: &counts, exponent: exponent, lowerIndex: lowerIndex)
        total += other.total
    }

    private mutating func cover(_ lo: Double, _ hi: Double) {
        // + 0 turns -0 into +0, so the extrema do not depend on which zero came first.
        observedMin = anchoredAtZero ? 0 : min(observedMin, lo + 0)
        observedMax = max(observedMax, hi + 0)
        let window = Self.window(min: observedMin, max: observedMax, bins: counts.count)
        guard window.exponent != exponent || window.lowerIndex != lowerIndex else { return }
        var moved = [Double](repeating: 0, count: counts.count)
        Self.rebin(counts, exponent: exponent, lowerIndex: lowerIndex, into: &moved, exponent: window.exponent, lowerIndex: window.lowerIndex)
        counts = moved
        (exponent, lowerIndex) = window
    }

    /// Adds `source`'s counts into the coarser (or equal) window `target`; every non-empty source bin
    /// lies inside one target bin, which the window choice guarantees for data inside the target range.
    private static func rebin(_ source: [Double], exponent: Int, lowerIndex: Int,
                              into target: inout [Double], exponent targetExponent: Int, lowerIndex targetLower: Int) {
        let shift = targetExponent - exponent, n = target.count
        for (j, c) in source.enumerated() where c > 0 {
            let index = ((lowerIndex + j) >> shift) - targetLower
            target[min(max(index, 0), n - 1)] += c
        }
    }

    /// The canonical window of data in [min, max]: bin width 2^exponent, first bin lowerIndex.
    static func window(min: Double, max: Double, bins: Int) -> (exponent: Int, lowerIndex: Int) {
        guard min <= max else { return (0, 0) }
        var exponent = Int(Float(Swift.max(-min, max)).ulp.exponent)
        while true {
            let scale = powerOfTwo(-exponent)
            let first = Int((min * scale).rounded(.down)), last = Int((max * scale).rounded(.down))
            if last - first < bins { return (exponent, first) }
            exponent += 1
        }
    }

    static func powerOfTwo(_ exponent: Int) -> Double { Double(sign: .plus, exponent: exponent, significand: 1) }

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
