import CKernels
import OnboardCore

/// The epilogue of a product whose first operand holds a softmax with deferred normalization
/// (`SoftmaxNormalization`): int32 accumulators `Σ_j e_j (v_j - z_v)` of each row, divided by the
/// row's code sum `Σ_j e_j` and scaled by `alpha · s_v / s_y`, all in integers: one 64-bit division
/// per row gives the row's multiplier `round(2^shift · alpha s_v / s_y / sum)`, then each output is
/// a multiply and a rounding shift.
struct RowDivision {
    let numerator: Int64
    let shift: Int32
    let output: ActivationQuant

    /// - Parameter scale: `alpha · s_v / s_y` (the softmax codes' own scale cancels in the division).
    init(scale: Double, output: ActivationQuant) {
        // |acc| <= 255 · sum over 255, so |acc · m| <= 255 · |numerator| (+ rounding) stays below 2^63
        // with the numerator below 2^54.
        let exponent = scale == 0 || !scale.isFinite ? 0 : Int(scale.magnitude.exponent) + 1
        shift = Int32(min(max(53 - exponent, 1), 62))
        let scaled = scale * Double(sign: .plus, exponent: Int(shift), significand: 1)
        numerator = scaled.isFinite && scaled.magnitude < 0x1p54 ? Int64(scaled.rounded()) : 0
        self.output = output
    }

    func run(_ acc: UnsafePointer<Int32>, rows: Range<Int>, width: Int, rowSums: UnsafePointer<Int32>,
             into codes: UnsafeMutablePointer<UInt8>) {
        guard width > 0, !rows.isEmpty else { return }
        onboard_q8_divide_rows_s32(acc + rows.lowerBound * width, rows.count, width, rowSums + rows.lowerBound, numerator, shift,
                                   codes + rows.lowerBound * width, output.zeroPoint, output.qmin, output.qmax)
    }
}
