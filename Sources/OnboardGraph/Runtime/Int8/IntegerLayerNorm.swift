import CKernels
import OnboardCore
import OnboardQuant

/// LayerNorm over the last axis on u8 codes without a float island (recipe `"layernorm": "integer"`):
/// I-LLM's DI-Norm as OnboardQuant's `DINorm` computes it (integer mean and variance, integer
/// square root, one dyadic gain and a fixed-point bias per channel, the same parameters), except
/// that each row divides once, for a 31-bit reciprocal, instead of once per element. The input
/// zero point cancels in `n·x_i - Σx`; the input scale only converts eps to code units. Within one
/// output step of the float island, and within one code of `DINorm` (tested).
struct IntegerLayerNorm: Sendable {
    static let fractionBits = 12
    /// Widths beyond this could overflow the 64-bit sum of squares: those layernorms stay islands.
    static let maxWidth = 16384

    let width: Int
    let output: ActivationQuant
    let gainMultipliers: [Int32]
    let gainShifts: [Int32]
    let biases: [Int64]
    /// eps in the units of the squared deviations `(n·x_i - Σx)²`: eps·n² / s_in².
    let epsilon: Int64

    init(gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>, epsilon: Float,
         input: ActivationQuant, output: ActivationQuant, node: String) throws {
        let n = gamma.count
        guard n > 0, n <= Self.maxWidth, beta.count == n else {
            throw OnboardError.shape(item: node, reason: "integer layernorm takes 1...\(Self.maxWidth) channels with as many biases, got \(n) and \(beta.count)")
        }
        guard gamma.allFinite, beta.allFinite, epsilon >= 0 else {
            throw OnboardError.invalidArgument("\(node): layernorm weights must be finite and eps >= 0")
        }
        let one = Double(1 << Self.fractionBits)
        let gains = gamma.map { Dyadic.approximate(Double($0) / Double(output.scale)) }
        guard gains.allSatisfy({ $0.multiplier == 0 || $0.shift >= 1 }) else {
            throw OnboardError.invalidArgument("\(node): a layernorm gain is too large for the output scale \(output.scale)")
        }
        biases = try beta.map { b in
            let value = Double(b) / Double(output.scale) * one
            guard value.isFinite, abs(value) <= 9_007_199_254_740_992 else {
                throw OnboardError.invalidArgument("\(node): a layernorm bias is out of range for the output scale \(output.scale)")
            }
            return Int64(value.rounded())
        }
        gainMultipliers = gains.map(\.multiplier)
        // The kernel shifts by 1...62: a zero gain may take any, and beyond 62 every product rounds to 0 anyway.
        gainShifts = gains.map { $0.multiplier == 0 ? 1 : min($0.shift, 62) }
        let units = Double(epsilon) * Double(n) * Double(n) / (Double(input.scale) * Double(input.scale))
        self.epsilon = Int64(min(units, Double(Int64.max >> 8)).rounded())
        width = n
        self.output = output
    }

    /// Bytes of work space one `run` needs.
    static func workBytes(width: Int) -> Int { 4 * width + 64 }

    /// Rows `rows` of [*, width] codes; `work` holds `workBytes(width:)`.
    func run(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<UInt8>, rows: Range<Int>, work: UnsafeMutableRawPointer) {
        guard !rows.isEmpty else { return }
        gainMultipliers.withUnsafeBufferPointer { m in
            gainShifts.withUnsafeBufferPointer { s in
                biases.withUnsafeBufferPointer { b in
                    onboard_q8_layernorm_rows(x + rows.lowerBound * width, y + rows.lowerBound * width, rows.count, width,
                                              m.baseAddress, s.baseAddress, b.baseAddress, epsilon, Int32(Self.fractionBits),
                                              output.zeroPoint, output.qmin, output.qmax, work.assumingMemoryBound(to: Int32.self))
                }
            }
        }
    }
}
