/// Affine quantization parameters: `real = scale * (code - zeroPoint)`.
///
/// Code ranges: symmetric uses the restricted signed range `[-(2^(b-1)-1), 2^(b-1)-1]` (zero point 0,
/// so -128 is never produced at 8 bits and negation stays exact); asymmetric uses the unsigned range
/// `[0, 2^b - 1]` (uint8-style) with an integer zero point inside it.
public struct QuantParams: Codable, Equatable, Sendable {
    public var scale: Float
    public var zeroPoint: Int32
    public var bits: Int
    public var symmetric: Bool

    public init(scale: Float, zeroPoint: Int32, bits: Int, symmetric: Bool) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.bits = bits
        self.symmetric = symmetric
    }

    public var qmin: Int32 { symmetric ? -Int32((1 << (bits - 1)) - 1) : 0 }
    public var qmax: Int32 { symmetric ? Int32((1 << (bits - 1)) - 1) : Int32((1 << bits) - 1) }

    /// Parameters covering `[min, max]` widened to include 0 (so 0 is exactly representable).
    /// `bits` is clamped to 2...16. The scale is always positive and finite: an all-zero range gets
    /// scale 1; non-finite bounds are treated as the largest finite float of that sign (NaN as 0).
    public static func affine(min: Float, max: Float, bits: Int, symmetric: Bool) -> QuantParams {
        let bits = Swift.min(Swift.max(bits, 2), 16)
        let lo = Swift.min(sanitized(min), 0), hi = Swift.max(sanitized(max), 0)
        var params = QuantParams(scale: 1, zeroPoint: 0, bits: bits, symmetric: symmetric)
        if symmetric {
            let amax = Double(Swift.max(-lo, hi))
            params.scale = positiveScale(amax / Double(params.qmax))
        } else {
            params.scale = positiveScale((Double(hi) - Double(lo)) / Double(params.qmax))
            let zero = (-Double(lo) / Double(params.scale)).rounded(.toNearestOrEven)
            params.zeroPoint = Int32(Swift.min(Swift.max(zero, 0), Double(params.qmax)))
        }
        return params
    }

    /// Round half to even (as `torch.round`), then clamp to `[qmin, qmax]`.
    @inline(__always)
    public func quantize(_ x: Float) -> Int32 {
        let q = (x / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
        if !(q >= Float(qmin)) { return qmin }  // also catches NaN
        if q > Float(qmax) { return qmax }
        return Int32(q)
    }

    @inline(__always)
    public func dequantize(_ code: Int32) -> Float { scale * Float(code - zeroPoint) }

    @inline(__always)
    public func fakeQuantize(_ x: Float) -> Float { dequantize(quantize(x)) }

    /// The real interval that quantizes without clipping.
    public var representableRange: (min: Float, max: Float) { (dequantize(qmin), dequantize(qmax)) }

    private static func sanitized(_ x: Float) -> Float {
        if x.isNaN { return 0 }
        if x.isInfinite { return x > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude }
        return x
    }

    private static func positiveScale(_ s: Double) -> Float {
        guard s > 0 else { return 1 }
        let f = Float(Swift.min(s, Double(Float.greatestFiniteMagnitude)))
        return Swift.max(f, .leastNormalMagnitude)
    }
}
