import Foundation

/// Logarithmic quantization of non-negative values: `code = clamp(round(-log_base(x / delta)), 0, 2^b - 1)`,
/// `x̂ = delta * base^-code`. Codes that would exceed 2^b - 1 (values below the smallest level's midpoint
/// in the log domain) dequantize to 0, as in ADFQ-ViT and RepQ-ViT; negative inputs are treated as 0.
public struct LogQuantizer: Sendable {
    public enum Base: String, Codable, Sendable {
        case two
        /// Base sqrt(2): twice the levels per octave (RepQ-ViT's post-softmax quantizer).
        case sqrt2
    }

    public let bits: Int
    public let base: Base
    /// The largest level (code 0).
    public let delta: Float

    public init(bits: Int, base: Base, delta: Float) {
        self.bits = min(max(bits, 2), 16)
        self.base = base
        self.delta = delta.isFinite && delta > 0 ? delta : 1
    }

    private var stepsPerOctave: Float { base == .two ? 1 : 2 }
    public var maxCode: Int32 { Int32((1 << bits) - 1) }

    /// Code for `x`, or nil when it rounds to zero (underflow past the last code).
    public func quantize(_ x: Float) -> Int32? {
        guard x > 0 else { return nil }
        let q = (-stepsPerOctave * log2(x / delta)).rounded(.toNearestOrEven)
        if q > Float(maxCode) { return nil }
        return Int32(max(q, 0))
    }

    public func dequantize(_ code: Int32?) -> Float {
        guard let code else { return 0 }
        // base^-code: for sqrt2, 2^-ceil(q/2) * (sqrt2 if q is odd), i.e. exactly delta * 2^(-q/2).
        return delta * exp2(-Float(code) / stepsPerOctave)
    }

    public func fakeQuantize(_ x: Float) -> Float { dequantize(quantize(x)) }

    /// Chooses `delta` among the given quantiles of the (non-negative) data by least L2 error.
    public static func calibrated(_ values: [Float], bits: Int, base: Base,
                                  quantiles: [Double] = [0.999, 0.9999, 0.99999, 1]) -> LogQuantizer {
        let sorted = values.filter { $0.isFinite }.sorted()
        guard let top = sorted.last, top > 0 else { return LogQuantizer(bits: bits, base: base, delta: 1) }
        var best = (error: Double.infinity, quantizer: LogQuantizer(bits: bits, base: base, delta: top))
        for q in quantiles {
            let index = min(sorted.count - 1, max(0, Int((q * Double(sorted.count - 1)).rounded())))
            let candidate = LogQuantizer(bits: bits, base: base, delta: max(sorted[index], .leastNormalMagnitude))
            var error = 0.0
            for x in sorted { error += Double((x - candidate.fakeQuantize(x)) * (x - candidate.fakeQuantize(x))) }
            if error < best.error { best = (error, candidate) }
        }
        return best.quantizer
    }
}

/// ADFQ-ViT's Shift-Log2 quantizer for post-GELU activations (the fc2 input), which are >= -0.17 with a
/// long positive tail: shift by the minimum, log-quantize, shift back: `x̂ = logQ(x - min + eps) + min - eps`.
///
/// Open choice: the paper says log2 but the reference code uses base sqrt(2) (as RepQ-ViT); we default to
/// sqrt(2) and offer base 2. The minimum is taken from the tensor at hand (dynamic, as in the code) and
/// delta is searched over the quantiles {0.999, 0.9999, 0.99999} (plus the max) of the shifted values.
public struct ShiftLogQuantizer: Sendable {
    public static let epsilon: Float = 1e-6
    public let bits: Int
    public let base: LogQuantizer.Base

    public init(bits: Int, base: LogQuantizer.Base = .sqrt2) {
        self.bits = bits
        self.base = base
    }

    /// Quantize-dequantize `values` with the minimum and delta calibrated on them.
    public func fakeQuantize(_ values: [Float]) -> [Float] {
        guard let minimum = values.filter({ $0.isFinite }).min() else { return values }
        let shifted = values.map { $0 - minimum + Self.epsilon }
        let log = LogQuantizer.calibrated(shifted, bits: bits, base: base)
        return shifted.map { log.fakeQuantize($0) + minimum - Self.epsilon }
    }
}
