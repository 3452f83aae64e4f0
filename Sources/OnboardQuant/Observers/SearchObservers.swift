import Foundation

/// Grid search of the clipping range that minimizes the Lp quantization error (`lpNorm`; 2 = MSE).
/// Symmetric candidates are `[-k/n * amax, k/n * amax]` for k = 1...n (`searchSteps`); asymmetric ones
/// shrink each bound toward 0 in a coordinate search (upper, lower, twice), since a lopsided range
/// (one far outlier on one side) must shrink on that side only. Errors are evaluated on the histogram.
public struct MSEObserver: RangeObserver {
    private var data: HistogramObserverState

    public init(item: String, options: ObserverOptions) { data = HistogramObserverState(item: item, options: options) }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) throws { try data.observe(values) }
    public var state: ObserverState { data.state(.mse) }
    public mutating func merge(_ other: ObserverState) throws { try data.merge(other, kind: .mse) }

    public func calibratedRange() throws -> (min: Float, max: Float) {
        let histogram = try data.observed(), options = data.options
        let lo = Float(min(histogram.observedMin, 0)), hi = Float(max(histogram.observedMax, 0))
        let steps = max(1, options.searchSteps)
        let p = options.lpNorm.isFinite && options.lpNorm > 0 ? options.lpNorm : 2
        func error(_ range: (min: Float, max: Float)) -> Double {
            histogram.error(of: .affine(min: range.min, max: range.max, bits: options.bits, symmetric: options.symmetric), p: p)
        }
        var best = (error: error((lo, hi)), range: (min: lo, max: hi))
        if options.symmetric {
            let amax = max(-lo, hi)
            for k in 1...steps {
                let t = amax * Float(k) / Float(steps)
                let e = error((-t, t))
                if e < best.error { best = (e, (-t, t)) }
            }
            return best.range
        }
        // Asymmetric: coordinate search, the upper bound then the lower bound, twice.
        for _ in 0..<2 {
            for side in [1, 0] {
                for k in 1...steps {
                    let f = Float(k) / Float(steps)
                    let range = side == 1 ? (min: best.range.min, max: hi * f) : (min: lo * f, max: best.range.max)
                    let e = error(range)
                    if e < best.error { best = (e, range) }
                }
            }
        }
        return best.range
    }
}

/// ADFQ-ViT's quantile search: for each p in `quantiles`, try `[quantile(1 - p), quantile(p)]`
/// and keep the one with the lowest L2 error at `bits`.
public struct QuantileObserver: RangeObserver {
    private var data: HistogramObserverState

    public init(item: String, options: ObserverOptions) { data = HistogramObserverState(item: item, options: options) }

    public mutating func observe(_ values: UnsafeBufferPointer<Float>) throws { try data.observe(values) }
    public var state: ObserverState { data.state(.quantile) }
    public mutating func merge(_ other: ObserverState) throws { try data.merge(other, kind: .quantile) }

    public func calibratedRange() throws -> (min: Float, max: Float) {
        let histogram = try data.observed(), options = data.options
        var best = (error: Double.infinity, range: (min: Float(histogram.observedMin), max: Float(histogram.observedMax)))
        for p in options.quantiles where p.isFinite && p > 0.5 && p <= 1 {
            let range = (min: Float(histogram.quantile(1 - p)), max: Float(histogram.quantile(p)))
            let params = QuantParams.affine(min: range.min, max: range.max, bits: options.bits, symmetric: options.symmetric)
            let error = histogram.error(of: params, p: 2)
            if error < best.error { best = (error, range) }
        }
        return best.range
    }
}

extension QuantileObserver {
    /// ADFQ-ViT's Shift-Log2 parameters from the observed values x: the shift is the smallest value
    /// minus `ShiftLogQuantizer.epsilon` (static here, where the reference takes each tensor's own
    /// minimum), and delta is searched over the quantiles `options.quantiles` and the maximum of
    /// x - shift by least L2 error of the base-sqrt(2) log quantizer at `bits`.
    public func shiftLogParameters(bits: Int) throws -> (shift: Float, delta: Float) {
        let histogram = try data.observed()
        let shift = Float(histogram.observedMin) - ShiftLogQuantizer.epsilon
        var best = (error: Double.infinity, delta: max(Float(histogram.observedMax) - shift, .leastNormalMagnitude))
        for p in data.options.quantiles + [1] where p.isFinite && p > 0.5 && p <= 1 {
            let delta = max(Float(histogram.quantile(p)) - shift, .leastNormalMagnitude)
            let log = LogQuantizer(bits: bits, base: .sqrt2, delta: delta)
            var error = 0.0
            for (bin, count) in histogram.counts.enumerated() where count > 0 {
                let x = Float(histogram.center(bin)) - shift
                let e = Double(x - log.fakeQuantize(x))
                error += count * e * e
            }
            if error < best.error { best = (error, delta) }
        }
        return (shift, best.delta)
    }
}
