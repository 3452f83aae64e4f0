import OnboardCore

/// Calibrates a clipping range from batches of activations, in bounded memory.
public protocol RangeObserver {
    /// Feeds one batch; throws OnboardError (naming `item` given at creation) on NaN/Inf.
    mutating func observe(_ values: UnsafeBufferPointer<Float>) throws
    /// The calibrated clipping range; throws if nothing was observed.
    func calibratedRange() throws -> (min: Float, max: Float)
    /// Everything observed so far, to save or to merge into another observer.
    var state: ObserverState { get }
    /// Adds the state of an observer of the same kind and options, as if its batches had been observed
    /// here after this one's; the result is exact for every kind but `ema`, which refuses (typed
    /// OnboardError) unless one side has observed nothing. A mismatched state throws naming the field.
    mutating func merge(_ other: ObserverState) throws
}

extension RangeObserver {
    public mutating func observe(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try observe($0) }
    }

    /// The calibrated range as quantization parameters.
    public func quantParams(bits: Int, symmetric: Bool) throws -> QuantParams {
        let range = try calibratedRange()
        return .affine(min: range.min, max: range.max, bits: bits, symmetric: symmetric)
    }
}

public enum ObserverKind: String, CaseIterable, Codable, Sendable {
    case minmax, ema, percentile, mse, kl, klRelu = "kl_relu", quantile
}

public struct ObserverOptions: Codable, Sendable {
    /// Target bit width (used by the searching observers: mse, kl, kl_relu, quantile).
    public var bits: Int = 8
    public var symmetric: Bool = false
    /// Percentile (0...100) of the `percentile` observer; the lower bound uses `100 - percentile`.
    public var percentile: Double = 99.99
    /// Weight of the running value in the `ema` observer: `run = m * run + (1 - m) * batch`.
    public var emaMomentum: Double = 0.9
    /// Bins of the streaming histogram (rounded up to an even count, at least 64 and at most 2^24).
    public var histogramBins: Int = 2048
    /// Exponent p of the `mse` observer's Lp error (2 = MSE; ADFQ-ViT's q/k/v quantizers use 2.4).
    public var lpNorm: Double = 2.0
    /// Candidate clipping ranges tried by the `mse` observer (fractions 1/n ... n/n of the observed range).
    public var searchSteps: Int = 100
    /// Quantiles tried by the `quantile` observer (ADFQ-ViT: max = quantile(p), min = quantile(1 - p)).
    public var quantiles: [Double] = [0.999, 0.9999, 0.99999]

    public init() {}

    /// Decodes a partial object (as written in a recipe): absent keys keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ObserverOptions()
        bits = try c.decodeIfPresent(Int.self, forKey: .bits) ?? d.bits
        symmetric = try c.decodeIfPresent(Bool.self, forKey: .symmetric) ?? d.symmetric
        percentile = try c.decodeIfPresent(Double.self, forKey: .percentile) ?? d.percentile
        emaMomentum = try c.decodeIfPresent(Double.self, forKey: .emaMomentum) ?? d.emaMomentum
        histogramBins = try c.decodeIfPresent(Int.self, forKey: .histogramBins) ?? d.histogramBins
        lpNorm = try c.decodeIfPresent(Double.self, forKey: .lpNorm) ?? d.lpNorm
        searchSteps = try c.decodeIfPresent(Int.self, forKey: .searchSteps) ?? d.searchSteps
        quantiles = try c.decodeIfPresent([Double].self, forKey: .quantiles) ?? d.quantiles
    }
}

public func makeObserver(_ kind: ObserverKind, item: String, options: ObserverOptions) -> any RangeObserver {
    switch kind {
    case .minmax: return MinMaxObserver(item: item)
    case .ema: return EMAMinMaxObserver(item: item, momentum: options.emaMomentum)
    case .percentile: return PercentileObserver(item: item, options: options)
    case .mse: return MSEObserver(item: item, options: options)
    case .kl: return KLObserver(item: item, options: options, reluFollows: false)
    case .klRelu: return KLObserver(item: item, options: options, reluFollows: true)
    case .quantile: return QuantileObserver(item: item, options: options)
    }
}

/// Batch min and max; throws naming `item` and the element index at the first non-finite value.
func finiteExtrema(_ values: UnsafeBufferPointer<Float>, item: String) throws -> (min: Float, max: Float)? {
    guard !values.isEmpty else { return nil }
    var lo = Float.infinity, hi = -Float.infinity
    for (i, v) in values.enumerated() {
        guard v.isFinite else {
            throw OnboardError.shape(item: item, reason: "calibration value \(i) of the batch is \(v); observers accept finite values only")
        }
        lo = min(lo, v)
        hi = max(hi, v)
    }
    return (lo + 0, hi + 0)  // -0 becomes +0, so the extrema do not depend on which zero came first
}

func nothingObserved(_ item: String) -> OnboardError {
    .shape(item: item, reason: "no calibration values were observed")
}
