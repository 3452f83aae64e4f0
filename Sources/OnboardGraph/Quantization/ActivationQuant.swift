import CKernels
import OnboardQuant

/// Quantization of one activation tensor as the INT8 executor stores it: uint8 codes,
/// `real = scale * (code - zeroPoint)`, codes clamped to `[qmin, qmax]`. Symmetric parameters
/// become zero point 128 with codes 1...255, so every stored tensor is plain u8.
public struct ActivationQuant: Codable, Equatable, Sendable {
    public var scale: Float
    public var zeroPoint: Int32
    public var qmin: Int32
    public var qmax: Int32

    enum CodingKeys: String, CodingKey { case scale, zeroPoint = "zero_point", qmin, qmax }

    public init(_ params: QuantParams) {
        scale = params.scale
        if params.symmetric {
            zeroPoint = 128
            qmin = 128 + params.qmin
            qmax = 128 + params.qmax
        } else {
            zeroPoint = params.zeroPoint
            qmin = params.qmin
            qmax = params.qmax
        }
    }

    public init(scale: Float, zeroPoint: Int32, qmin: Int32 = 0, qmax: Int32 = 255) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.qmin = qmin
        self.qmax = qmax
    }

    /// The real interval the codes cover.
    public var representableRange: (min: Float, max: Float) {
        (scale * Float(qmin - zeroPoint), scale * Float(qmax - zeroPoint))
    }

    /// The codes of `values`, rounded and clamped exactly as the INT8 executor quantizes its float inputs.
    public func codes(of values: [Float]) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: values.count)
        onboard_q8_quantize_u8(values, &codes, values.count, scale, zeroPoint, qmin, qmax)
        return codes
    }

    public var isValid: Bool {
        scale.isFinite && scale > 0 && 0 <= qmin && qmin <= zeroPoint && zeroPoint <= qmax && qmax <= 255
    }
}
