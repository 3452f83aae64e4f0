import CKernels
import OnboardQuant

/// The QANS epilogue of an attention-logit matmul: int32 sums (zero points already folded) minus
/// each row's extreme sum, so the largest logit of the row becomes exactly 0, then requantized to
/// the stabilized tensor's codes (zero point 255). The subtraction is exact in integers; the scale
/// is applied like the plain epilogue's (float multiply and round half to even, or fixed point).
struct StabilizedLogits {
    /// Real logit per accumulator unit over the output scale (alpha · sa · sb / sy).
    let scale: Float
    let output: ActivationQuant
    /// Multiplier and right shift for the gemmlowp fixed-point path (multiplier 0: float path),
    /// used when asked and 0 < scale < 1.
    let multiplier: Int32
    let shift: Int32

    init(scale: Float, output: ActivationQuant, fixedPoint: Bool) {
        self.scale = scale
        self.output = output
        if fixedPoint, scale > 0, scale < 1 {
            let dyadic = Dyadic.approximate(Double(scale))
            multiplier = dyadic.multiplier
            shift = dyadic.shift - 31
        } else {
            multiplier = 0
            shift = 0
        }
    }

    /// Rows `rows` of the [*, width] sums to codes. The row's largest logit is its largest sum when
    /// the scale is positive and its smallest when negative (a negative alpha).
    func run(_ sums: UnsafePointer<Int32>, rows: Range<Int>, width: Int, into codes: UnsafeMutablePointer<UInt8>) {
        guard width > 0, !rows.isEmpty else { return }
        onboard_q8_stabilize_rows_s32(sums + rows.lowerBound * width, rows.count, width, scale, multiplier, shift,
                                      codes + rows.lowerBound * width, output.zeroPoint, output.qmin, output.qmax)
    }
}
