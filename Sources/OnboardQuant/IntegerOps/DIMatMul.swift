import OnboardCore

/// Integer codes with one zero point and a dyadic scale: `real = scale * (code - zeroPoint)`.
public struct DyadicQuantized: Sendable {
    public var codes: [Int32]
    public var zeroPoint: Int32
    public var scale: Dyadic

    public init(codes: [Int32], zeroPoint: Int32, scale: Dyadic) {
        self.codes = codes
        self.zeroPoint = zeroPoint
        self.scale = scale
    }
}

/// I-LLM's DI-MatMul: integer matrix product with dynamic per-row (per-token) requantization.
///
/// `P = (X1 - z1)(X2 - z2)` accumulates in integers; each output row is mapped onto `2^bits - 1` levels
/// from its own integer min and max, `Y = round((P - pmin)(2^n - 1) / (pmax - pmin))`,
/// `zY = round(-pmin (2^n - 1) / (pmax - pmin))`, and its scale `s1 s2 (pmax - pmin) / (2^n - 1)` is formed
/// as a new dyadic number with integer multiplies, divisions and shifts only. The input multipliers are
/// renormalized to 16 bits so every product fits in 64 bits (the paper stores 8-bit multipliers; 16 keeps
/// the output-scale error under 2^-14). Error bound (tested): one output step plus 2^-13 relative.
public enum DIMatMul {
    public struct Output: Sendable {
        /// Row-major [rows, cols] codes in 0...2^bits - 1.
        public var codes: [Int32]
        public var zeroPoints: [Int32]
        public var scales: [Dyadic]

        public func dequantized(cols: Int) -> [Float] {
            codes.enumerated().map { i, q in Float(scales[i / cols].value) * Float(q - zeroPoints[i / cols]) }
        }
    }

    /// `x1` is [rows, inner], `x2` is [inner, cols], both row-major.
    public static func multiply(_ x1: DyadicQuantized, _ x2: DyadicQuantized, rows: Int, inner: Int, cols: Int,
                                outputBits: Int = 8) throws -> Output {
        guard x1.codes.count == rows * inner, x2.codes.count == inner * cols, rows > 0, inner > 0, cols > 0 else {
            throw OnboardError.shape(item: "DI-MatMul", reason: "operands \(x1.codes.count) and \(x2.codes.count) values do not fit [\(rows), \(inner)] x [\(inner), \(cols)]")
        }
        guard (2...16).contains(outputBits) else { throw OnboardError.invalidArgument("DI-MatMul output bits must be in 2...16") }
        guard x1.scale.multiplier > 0, x2.scale.multiplier > 0 else { throw OnboardError.invalidArgument("DI-MatMul scales must be positive") }
        // Bounds that keep every intermediate within 64 bits: |code - zero| <= 2^15, inner <= 2^14.
        let limit = Int64(1) << 15
        guard inner <= 1 << 14,
              x1.codes.allSatisfy({ abs(Int64($0) - Int64(x1.zeroPoint)) <= limit }),
              x2.codes.allSatisfy({ abs(Int64($0) - Int64(x2.zeroPoint)) <= limit }) else {
            throw OnboardError.invalidArgument("DI-MatMul takes codes within 2^15 of their zero point and inner dimension <= 16384")
        }
        let levels = Int64((1 << outputBits) - 1)
        let (baseMultiplier, baseShift) = productScale(x1.scale, x2.scale)
        var out = Output(codes: [Int32](repeating: 0, count: rows * cols), zeroPoints: [], scales: [])
        var accumulator = [Int64](repeating: 0, count: cols)
        for r in 0..<rows {
            for c in 0..<cols { accumulator[c] = 0 }
            for k in 0..<inner {
                let a = Int64(x1.codes[r * inner + k]) - Int64(x1.zeroPoint)
                if a == 0 { continue }
                for c in 0..<cols { accumulator[c] += a * (Int64(x2.codes[k * cols + c]) - Int64(x2.zeroPoint)) }
            }
            let pmin = min(accumulator.min() ?? 0, 0), pmax = max(accumulator.max() ?? 0, 0)  // keep 0 exact
            let range = max(pmax - pmin, 1)
            for c in 0..<cols {
                out.codes[r * cols + c] = Int32(IntegerMath.roundedDivide((accumulator[c] - pmin) * levels, range))
            }
            out.zeroPoints.append(Int32(IntegerMath.roundedDivide(-pmin * levels, range)))
            out.scales.append(rowScale(baseMultiplier, baseShift, range: range, levels: levels))
        }
        return out
    }

    /// s1 * s2 as a 16-bit multiplier and shift (integer only).
    static func productScale(_ a: Dyadic, _ b: Dyadic) -> (Int64, Int) {
        var m = Int64(a.multiplier) * Int64(b.multiplier)
        var shift = Int(a.shift) + Int(b.shift)
        let excess = IntegerMath.bitLength(m) - 16
        if excess > 0 {
            m = Dyadic.roundingShift(m, excess)
            shift -= excess
        }
        return (m, shift)
    }

    /// `m 2^-shift * range / levels` as a 31-bit dyadic, by one wide integer division.
    static func rowScale(_ m: Int64, _ shift: Int, range: Int64, levels: Int64) -> Dyadic {
        guard m != 0 else { return Dyadic(multiplier: 0, shift: 0) }
        let numerator = m * range  // < 2^16 * 2^45
        let headroom = 62 - IntegerMath.bitLength(numerator)
        var q = IntegerMath.roundedDivide(numerator << headroom, levels)
        var s = shift + headroom
        let excess = IntegerMath.bitLength(q) - 31
        if excess > 0 {
            q = Dyadic.roundingShift(q, excess)
            s -= excess
            if IntegerMath.bitLength(q) > 31 { q >>= 1; s -= 1 }
        }
        return Dyadic(multiplier: Int32(q), shift: Int32(s))
    }
}
