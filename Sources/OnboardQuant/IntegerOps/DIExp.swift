import OnboardCore

/// I-LLM's DI-Exp and DI-ClippedSoftmax: exponentials and softmax on integer codes with shifts.
///
/// For x <= 0 given as codes with dyadic scale `m 2^-k`: `e^x = 2^(x log2 e) = 2^-(q + r)` with integer q
/// and r in [0, 1); `2^-r` comes from a polynomial in integers and `2^-q` is a right shift.
/// Choices where the paper is open:
/// - log2(e) is folded into the multiplier once when the operator is built (rounded), instead of the
///   I-ViT shift-add approximation 1.4375, which would add a 0.36% error to every exponent.
/// - `2^-r ≈ 1 - r/2 - (11/64) r (1 - r)`: the linear `1 - r/2` alone is off by up to 0.043; the
///   quadratic correction (one multiply and shifts) brings that to 0.00195 (relative 0.39%).
/// Output: fixed point with `fractionBits` (1.0 = 2^fractionBits).
public struct DIExp: Sendable {
    public static let fractionBits = 15
    /// Max |DI-Exp - e^x| over every input (the polynomial bound plus fixed-point rounding), in real units.
    public static let errorBound = 0.00195 + 3.0 / Double(1 << fractionBits)

    let multiplier: Int64
    let shift: Int

    /// `inputScale` is the dyadic scale of the (non-positive) input codes (its sign is ignored).
    public init(inputScale: Dyadic) {
        // log2(e) folded in with 24-bit precision; the product stays within 64 bits for int32 codes.
        let folded = Dyadic.approximate(abs(inputScale.value) * 1.4426950408889634, bits: 24)
        multiplier = Int64(folded.multiplier)
        shift = Int(folded.shift)
    }

    /// e^(scale * code) for code <= 0 (positive codes are clamped to 0), as fixed point.
    public func exp(_ code: Int32) -> Int32 {
        let f = Self.fractionBits
        let magnitude = -min(Int64(code), 0)
        // t = |x| log2(e) in fixed point with f fraction bits.
        let t = Dyadic.roundingShift(magnitude * multiplier, shift - f)
        let q = t >> f, r = t & ((1 << f) - 1)
        if q > Int64(f) + 1 { return 0 }
        let one = Int64(1) << f
        let twoToMinusR = one - (r >> 1) - ((11 * ((r * (one - r)) >> f)) >> 6)
        return Int32(Dyadic.roundingShift(twoToMinusR, Int(q)))
    }
}

/// DI-ClippedSoftmax (with Q-PETR's QANS order: the row max is subtracted before anything is quantized
/// further): `x - max(x)` is clipped to `[-clip, 0]` in code units, exponentiated with DI-Exp, summed, and
/// normalized with one integer division to `outputBits` unsigned codes (scale `1 / (2^outputBits - 1)`).
/// The clip value is open in the paper; we default to 15 (e^-15 ≈ 3e-7, below one output step).
public struct DIClippedSoftmax: Sendable {
    public let outputBits: Int
    let exp: DIExp
    let clipCodes: Int32

    public init(inputScale: Dyadic, clip: Double = 15, outputBits: Int = 8) throws {
        guard inputScale.multiplier > 0 else { throw OnboardError.invalidArgument("softmax input scale must be positive") }
        guard (2...16).contains(outputBits) else { throw OnboardError.invalidArgument("softmax output bits must be in 2...16") }
        guard clip.isFinite, clip > 0 else { throw OnboardError.invalidArgument("softmax clip must be positive, got \(clip)") }
        self.outputBits = outputBits
        exp = DIExp(inputScale: inputScale)
        clipCodes = Int32(min((clip / inputScale.value).rounded(), Double(Int32.max)))
    }

    public var outputScale: Double { 1 / Double((1 << outputBits) - 1) }

    /// Softmax over each row of `codes` (row-major, `width` per row).
    public func callAsFunction(_ codes: [Int32], width: Int) throws -> [Int32] {
        guard width > 0, codes.count % width == 0 else {
            throw OnboardError.shape(item: "DI-ClippedSoftmax", reason: "\(codes.count) codes are not rows of \(width)")
        }
        let levels = Int64((1 << outputBits) - 1)
        var out = [Int32](repeating: 0, count: codes.count)
        var e = [Int64](repeating: 0, count: width)
        for start in stride(from: 0, to: codes.count, by: width) {
            let row = codes[start..<(start + width)]
            let top = row.max() ?? 0
            var sum: Int64 = 0
            for (j, c) in row.enumerated() {
                let shifted = max(Int64(c) - Int64(top), -Int64(clipCodes))
                e[j] = Int64(exp.exp(Int32(shifted)))
                sum += e[j]
            }
            for j in 0..<width { out[start + j] = Int32(IntegerMath.roundedDivide(e[j] * levels, max(sum, 1))) }
        }
        return out
    }
}
