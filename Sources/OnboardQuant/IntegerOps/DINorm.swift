import OnboardCore

/// I-LLM's DI-Norm: LayerNorm and RMSNorm on integer codes, with an integer square root.
///
/// Per token of n codes: LayerNorm centres with `D_i = n x_i - Σx` (exact, no division), RMSNorm uses
/// `D_i = x_i`; the denominator `isqrt(Σ D² 2^(2P) / n + eps')` is the (n·)std in code units times 2^P, P as
/// large as 64-bit headroom allows; `ŷ_i = D_i 2^(F+P) / denominator` is the normalized value in fixed point
/// (F = 12 fraction bits). The input scale cancels, except in eps, which is converted to code units once
/// when the operator is built. The affine `γ ŷ + β` and the output quantization use one dyadic multiplier
/// per channel and a fixed-point bias. Error bound (tested): within one output step of the float reference.
public struct DINorm: Sendable {
    public enum Kind: String, Sendable { case layerNorm, rmsNorm }
    static let fractionBits = 12

    public let kind: Kind
    public let channels: Int
    public let output: QuantParams
    let gains: [Dyadic]
    let biases: [Int64]
    let epsilonCodes: Int64

    /// `inputScale` is the real value of one input code; `gamma`/`beta` are the affine (beta ignored by RMSNorm).
    public init(kind: Kind, gamma: [Float], beta: [Float]?, epsilon: Double, inputScale: Double, output: QuantParams) throws {
        let n = gamma.count
        guard n > 0 else { throw OnboardError.shape(item: "DI-Norm", reason: "no channels") }
        if let beta, beta.count != n { throw OnboardError.shape(item: "DI-Norm", reason: "\(beta.count) biases for \(n) channels") }
        guard inputScale > 0, inputScale.isFinite, epsilon >= 0, output.scale > 0 else {
            throw OnboardError.invalidArgument("DI-Norm needs positive input and output scales and eps >= 0")
        }
        guard gamma.allFinite, (beta ?? []).allFinite else {
            throw OnboardError.invalidArgument("DI-Norm gamma and beta must be finite")
        }
        self.kind = kind
        channels = n
        self.output = output
        let f = Double(1 << Self.fractionBits)
        gains = gamma.map { Dyadic.approximate(Double($0) / Double(output.scale)) }
        biases = try (0..<n).map { j in
            guard kind == .layerNorm else { return 0 }
            guard let b = IntegerMath.roundedInteger(Double(beta?[j] ?? 0) / Double(output.scale) * f) else {
                throw OnboardError.invalidArgument("DI-Norm beta \(j) is out of range for the output scale")
            }
            return b
        }
        // eps in the units of the squared denominator: (n^2 for LayerNorm's n-scaled deviations) / s^2.
        let nFactor = kind == .layerNorm ? Double(n) * Double(n) : 1
        epsilonCodes = Int64(min(epsilon * nFactor / (inputScale * inputScale), Double(Int64.max >> 8)).rounded())
    }

    /// Normalizes each row of `codes` (row-major, `channels` wide) to output codes.
    public func callAsFunction(_ codes: [Int32]) throws -> [Int32] {
        guard codes.count % channels == 0 else {
            throw OnboardError.shape(item: "DI-Norm", reason: "\(codes.count) codes are not rows of \(channels)")
        }
        var out = [Int32](repeating: 0, count: codes.count)
        var work = [Int64](repeating: 0, count: channels)
        codes.withUnsafeBufferPointer { input in
            for start in stride(from: 0, to: codes.count, by: channels) {
                normalizeRow(input.baseAddress! + start, work: &work) { out[start + $0] = $1 }
            }
        }
        return out
    }

    /// One row of `channels` integer values, of any magnitude (codes, or a wider sum such as a
    /// 16-bit residual): `write(j, code)` receives each output code; `work` holds `channels` values.
    public func normalizeRow(_ row: UnsafePointer<Int32>, work d: inout [Int64], write: (Int, Int32) -> Void) {
        let n = Int64(channels), f = Self.fractionBits
        var sum: Int64 = 0
        for j in 0..<channels { sum += Int64(row[j]) }
        var largest: Int64 = 0
        for j in 0..<channels {
            d[j] = kind == .layerNorm ? n * Int64(row[j]) - sum : Int64(row[j])
            largest = max(largest, abs(d[j]))
        }
        // Pre-shift D by t when n D^2 could overflow; eps (in D^2 units) shifts by 2t with it.
        let t = max(0, (2 * IntegerMath.bitLength(largest) + IntegerMath.bitLength(n) - 60) / 2)
        var squares: Int64 = 0
        for j in 0..<channels {
            d[j] = Dyadic.roundingShift(d[j], t)
            squares += d[j] * d[j]
        }
        let epsilon = Dyadic.roundingShift(epsilonCodes, 2 * t)
        let p = max(0, min(20, (61 - IntegerMath.bitLength(max(squares, epsilon, 1))) / 2))
        let denominator = max(Int64(IntegerMath.isqrt(UInt64(((squares << (2 * p)) / n) + (epsilon << (2 * p))))), 1)
        for j in 0..<channels {
            let normalized = IntegerMath.roundedDivide(d[j] << (f + p), denominator)  // ŷ 2^F
            let g = gains[j]
            let affine = Dyadic.roundingShift(normalized * Int64(g.multiplier), Int(g.shift)) + biases[j]
            let code = Dyadic.roundingShift(affine, f) + Int64(output.zeroPoint)
            write(j, Int32(min(max(code, Int64(output.qmin)), Int64(output.qmax))))
        }
    }
}
