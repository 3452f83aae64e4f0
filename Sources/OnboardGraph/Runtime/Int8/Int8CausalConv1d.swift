import CKernels
import OnboardCore

/// Mamba's conv1d (`CausalConv1dOp`) in integers: int8 weights [C, 1, K] (one scale, or one per
/// channel) held tap-major, u8 input codes whose zero point is subtracted per tap (the taps past
/// the sequence's ends add nothing, so it cannot fold into a per-channel bias as a Linear's does),
/// and the bias and scales in the integer Linear's epilogue with the channels as its columns: u8
/// codes out, or f32 from the accumulators when only float islands read the output.
final class Int8CausalConv1d {
    let channels: Int
    let taps: Int
    let reverse: Bool
    let inputZeroPoint: Int32
    /// Weight codes [K, C]: each tap's channels in one contiguous row.
    let tapRows: [Int8]
    let tables: EpilogueTables
    let outType: onboard_q8_out_type

    var byteCount: Int { tapRows.count + channels * 8 }

    init(codes: UnsafePointer<Int8>, scales: [Float], channels: Int, taps: Int, bias: UnsafePointer<Float>?, reverse: Bool,
         input: ActivationQuant, output: ActivationQuant, fixedPoint: Bool, floatOutput: Bool) {
        self.channels = channels
        self.taps = taps
        self.reverse = reverse
        inputZeroPoint = input.zeroPoint
        var rows = [Int8](repeating: 0, count: channels * taps)
        for c in 0..<channels { for k in 0..<taps { rows[k * channels + c] = codes[c * taps + k] } }
        tapRows = rows
        tables = EpilogueTables(bias: bias, weightScales: scales, columns: channels, input: input, output: output,
                                fixedPoint: fixedPoint, floatOutput: floatOutput)
        outType = floatOutput ? ONBOARD_Q8_OUT_F32 : ONBOARD_Q8_OUT_U8
    }

    /// y [batch, length, C] (u8 codes or f32) from codes x of the same shape.
    func run(_ x: UnsafePointer<UInt8>, batch: Int, length: Int, into y: UnsafeMutableRawPointer, threads: Int) {
        let rowBytes = channels * (outType == ONBOARD_Q8_OUT_F32 ? 4 : 1)
        Parallel.forRanges(count: batch * length, threads: threads, grain: 16) { range in
            computeRows(x, length: length, rows: range, into: y + range.lowerBound * rowBytes)
        }
    }

    /// Rows `rows` of the output [batch * length, C] (across sequences as they fall) into y, which
    /// holds those rows only.
    func computeRows(_ x: UnsafePointer<UInt8>, length: Int, rows: Range<Int>, into y: UnsafeMutableRawPointer) {
        let (channels, taps, reverse, zeroPoint) = (channels, taps, reverse, inputZeroPoint)
        let rowBytes = channels * (outType == ONBOARD_Q8_OUT_F32 ? 4 : 1)
        tables.withEpilogue(outType: outType) { epilogue in
            tapRows.withUnsafeBufferPointer { weight in
                var row = rows.lowerBound
                while row < rows.upperBound {
                    let (b, t) = (row / length, row % length)
                    let end = min(rows.upperBound - row, length - t) + t
                    onboard_q8_causal_conv1d(x + b * length * channels, length, channels, zeroPoint, weight.baseAddress, taps, reverse ? 1 : 0,
                                             t, end, epilogue, y + (row - rows.lowerBound) * rowBytes)
                    row += end - t
                }
            }
        }
    }
}
