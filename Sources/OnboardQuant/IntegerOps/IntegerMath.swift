/// Integer helpers shared by the integer-only operators.
enum IntegerMath {
    /// floor(sqrt(n)) by Newton's method on integers.
    static func isqrt(_ n: UInt64) -> UInt64 {
        guard n > 1 else { return n }
        var x = UInt64(1) << ((64 - n.leadingZeroBitCount + 1) / 2)
        while true {
            let y = (x + n / x) / 2
            if y >= x { return x }
            x = y
        }
    }

    /// round(numerator / denominator), ties away from zero; denominator > 0.
    static func roundedDivide(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        numerator >= 0 ? (numerator + denominator / 2) / denominator : -((-numerator + denominator / 2) / denominator)
    }

    static func bitLength(_ x: Int64) -> Int { 64 - x.magnitude.leadingZeroBitCount }

    /// `x` rounded to an integer when finite and within ±2^53 (exact in Double), else nil.
    static func roundedInteger(_ x: Double) -> Int64? {
        guard x.isFinite, abs(x) <= 9_007_199_254_740_992 else { return nil }
        return Int64(x.rounded())
    }
}
