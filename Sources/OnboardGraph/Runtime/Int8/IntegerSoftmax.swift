import CKernels
import Foundation
import OnboardCore

/// Softmax over the last axis on u8 codes, integer-only at run time (a code-table path like the
/// executor's unary tables, recipe `"softmax": "lut"`).
///
/// Within a row, `x_j - max(x) = s·(c_j - c_max)` depends only on the code difference
/// `d = c_max - c_j` in 0...255, so `e^(x_j - max)` is a 256-entry table of fixed-point values
/// (1.0 = 2^fractionBits), built once from the input scale. Per row: the max code, an integer sum
/// of table values, one integer division giving the row's multiplier `2^P / (sum · s_y)`, then each
/// output code is a multiply and a rounding shift (rows of 256 or more compute that once per code
/// and look it up; `onboard_q8_softmax_lut_rows`). On QANS-stabilized input (zero point 255) the row
/// max is code 255 = exactly 0, so the table is just `e^(s·(c - 255))`; plain input works the same way.
///
/// Error (tested): within `errorBound(width:)` of float softmax on the dequantized input, i.e. half
/// an output step plus the table's rounding, so at most one code from the float island.
struct IntegerSoftmax: Sendable {
    static let fractionBits = 20

    let table: [Int32]
    /// round(2^shift / output scale), below 2^62 so `table · multiplier` fits 64 bits.
    let numerator: Int64
    let shift: Int
    let output: ActivationQuant

    init(input: ActivationQuant, output: ActivationQuant, node: String) throws {
        let one = Double(1 << Self.fractionBits)
        table = (0...255).map { d in Int32((exp(-Double(input.scale) * Double(d)) * one).rounded()) }
        let inverse = 1 / Double(output.scale)
        let shift = 61 - max(Int(inverse.exponent) + 1, 0)
        guard inverse.isFinite, shift >= 24 else {
            throw OnboardError.invalidArgument("\(node): output scale \(output.scale) is too small for the integer softmax")
        }
        self.shift = shift
        numerator = Int64((inverse * Double(sign: .plus, exponent: shift, significand: 1)).rounded())
        self.output = output
    }

    /// Largest |dequantized output - float softmax of the dequantized input| for rows of `width`
    /// (before clamping to the output range): half an output step, the table's rounding (half a unit
    /// of 2^-fractionBits on every term, over a sum of at least 1.0), and the row multiplier's rounding.
    func errorBound(width: Int) -> Double {
        let step = Double(output.scale)
        return 0.5 * step + Double(width + 1) * 0.5 / Double(1 << Self.fractionBits) + step * 1e-6
    }

    /// Rows `rows` of [*, width] codes.
    func run(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<UInt8>, rows: Range<Int>, width: Int) {
        guard width > 0, !rows.isEmpty else { return }
        table.withUnsafeBufferPointer { t in
            onboard_q8_softmax_lut_rows(x + rows.lowerBound * width, y + rows.lowerBound * width, rows.count, width, t.baseAddress,
                                        numerator, Int32(shift), output.zeroPoint, output.qmin, output.qmax)
        }
    }
}
