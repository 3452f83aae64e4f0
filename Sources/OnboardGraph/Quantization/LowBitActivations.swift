import Foundation
import OnboardCore
import OnboardQuant

/// ADFQ-ViT's per-patch parameters of one activation [.., tokens, channels]: an asymmetric
/// `bits`-bit range per token position (row r of the tensor is position r % positions), and the
/// magnitude above which a value is an outlier, kept in float.
public struct PerTokenQuant: Codable, Equatable, Sendable {
    public var scales: [Float]
    public var zeroPoints: [Int32]
    public var qmax: Int32
    public var threshold: Float

    enum CodingKeys: String, CodingKey { case scales, zeroPoints = "zero_points", qmax, threshold }

    public init(_ params: [QuantParams], threshold: Float) {
        scales = params.map(\.scale)
        zeroPoints = params.map(\.zeroPoint)
        qmax = params.first?.qmax ?? 255
        self.threshold = threshold
    }

    public var positions: Int { scales.count }

    public var isValid: Bool {
        !scales.isEmpty && scales.count == zeroPoints.count && (1...255).contains(qmax) && threshold.isFinite && threshold > 0
            && scales.allSatisfy { $0.isFinite && $0 > 0 } && zeroPoints.allSatisfy { (0...qmax).contains($0) }
    }
}

/// ADFQ-ViT's Shift-Log2 (base sqrt 2) codes of one activation: code q < 2^bits stands for
/// `delta * 2^(-q/2) + shift`, code 2^bits (a value below the last level) for `shift`. An integer
/// product reads code q as the u8 `productCodes[q]` on the grid `delta / 255` with offset `shift`.
public struct LogCodeQuant: Codable, Equatable, Sendable {
    public var bits: Int
    public var delta: Float
    public var shift: Float

    public init(bits: Int, delta: Float, shift: Float) {
        self.bits = bits
        self.delta = delta
        self.shift = shift
    }

    public var isValid: Bool { (2...7).contains(bits) && delta.isFinite && delta > 0 && shift.isFinite }
    public var zeroCode: UInt8 { UInt8(1 << bits) }
    private var log: LogQuantizer { LogQuantizer(bits: bits, base: .sqrt2, delta: delta) }

    public func code(of x: Float) -> UInt8 {
        guard let q = log.quantize(x - shift) else { return zeroCode }
        return UInt8(q)
    }

    public func value(of code: UInt8) -> Float {
        code >= zeroCode ? shift : log.dequantize(Int32(code)) + shift
    }

    /// The u8 each code becomes in the product: round(255 * 2^(-q/2)), 0 for the zero code.
    public var productCodes: [UInt8] {
        (0...Int(zeroCode)).map { q -> UInt8 in
            guard q < Int(zeroCode) else { return 0 }
            let level: Float = 255 * exp2(-Float(q) / 2)
            return UInt8(level.rounded())
        }
    }

    /// The product's grid: value = scale * u + shift.
    public var productScale: Float { delta / 255 }
}
