/// A scale expressed as `multiplier * 2^-shift`, for integer-only requantization.
///
/// `approximate(_:)` uses 31-bit multipliers (gemmlowp-style, `|multiplier|` in `[2^30, 2^31)`), so the
/// relative error is at most `2^-31` (half a unit of the multiplier's last bit over its minimum 2^30).
/// `approximate(_:bits:)` gives narrower multipliers (I-LLM stores 8-bit ones) with relative error `<= 2^-bits`.
public struct Dyadic: Equatable, Sendable {
    public var multiplier: Int32
    public var shift: Int32

    public init(multiplier: Int32, shift: Int32) {
        self.multiplier = multiplier
        self.shift = shift
    }

    /// `value ≈ multiplier * 2^-shift` with a 31-bit multiplier. Zero and non-finite values give 0.
    public static func approximate(_ value: Double) -> Dyadic { approximate(value, bits: 31) }

    /// `value ≈ multiplier * 2^-shift`, `|multiplier|` in `[2^(bits-1), 2^bits)`; `bits` clamped to 2...31.
    public static func approximate(_ value: Double, bits: Int) -> Dyadic {
        guard value.isFinite, value != 0 else { return Dyadic(multiplier: 0, shift: 0) }
        let bits = min(max(bits, 2), 31)
        // value = fraction * 2^exponent with |fraction| in [0.5, 1).
        let exponent = Int(value.exponent) + 1
        let fraction = value / pow2(exponent)
        var m = (fraction * pow2(bits)).rounded(.toNearestOrEven)
        var shift = bits - exponent
        if abs(m) >= pow2(bits) {  // rounding carried into a new bit
            m /= 2
            shift -= 1
        }
        guard shift >= Int(Int32.min), shift <= Int(Int32.max) else { return Dyadic(multiplier: 0, shift: 0) }
        return Dyadic(multiplier: Int32(m), shift: Int32(shift))
    }

    public var value: Double { Double(multiplier) * Dyadic.pow2(-Int(shift)) }

    /// `round(x * multiplier * 2^-shift)` (ties away from zero), saturated to Int32. Integer-only.
    public func apply(_ x: Int32) -> Int32 {
        Int32(clamping: Dyadic.roundingShift(Int64(x) * Int64(multiplier), Int(shift)))
    }

    /// `round(x * 2^-shift)` for a 64-bit product, ties away from zero; left shift (saturating) when `shift < 0`.
    static func roundingShift(_ x: Int64, _ shift: Int) -> Int64 {
        if shift <= 0 {
            let left = min(-shift, 62)
            let limit = Int64.max >> left
            if x > limit { return .max }
            if x < -limit { return .min }
            return x << left
        }
        if shift >= 63 { return 0 }
        let half = Int64(1) << (shift - 1)
        return x >= 0 ? (x + half) >> shift : -((-x + half) >> shift)
    }

    static func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }
}
