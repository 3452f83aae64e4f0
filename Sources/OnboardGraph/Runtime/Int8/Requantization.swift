import CKernels
import Foundation
import OnboardCore
import OnboardQuant

/// Per-column epilogue data of one integer product, owned so the C struct can point into it.
final class EpilogueTables {
    let columns: Int
    var colBias: [Int32]
    var scales: [Float]
    var multipliers: [Int32] = []
    var shifts: [Int32] = []
    /// Accumulator units added per output element [rows, columns] (empty: none).
    var elementBias: [Int32] = []
    let output: ActivationQuant
    let useFixedPoint: Bool

    /// `scales[j]` maps accumulator units to output codes; fixed point is used when asked and
    /// every scale is below 1 (a pure right shift).
    init(colBias: [Int32], scales: [Float], output: ActivationQuant, fixedPoint: Bool) {
        columns = scales.count
        self.colBias = colBias
        self.scales = scales
        self.output = output
        useFixedPoint = fixedPoint && scales.allSatisfy { $0 > 0 && $0 < 1 }
        if useFixedPoint {
            for scale in scales {
                // scale = multiplier · 2^-shift = (multiplier / 2^31) · 2^-(shift - 31): the kernel's
                // doubling high multiply takes the 2^31 and a right shift the rest (>= 0 as scale < 1).
                let dyadic = Dyadic.approximate(Double(scale))
                multipliers.append(dyadic.multiplier)
                shifts.append(dyadic.shift - 31)
            }
        }
    }

    /// The columns of a product against int8 weights (`weightScales`: one, or one per column): each
    /// bias in accumulator units (input scale times weight scale) less `folded(j)`, and scales from
    /// accumulators to output codes, or to real values for an f32 output.
    convenience init(bias: UnsafePointer<Float>?, weightScales: [Float], columns n: Int, input: ActivationQuant,
                     output: ActivationQuant, fixedPoint: Bool, floatOutput: Bool, folded: (Int) -> Double = { _ in 0 }) {
        var colBias = [Int32](repeating: 0, count: n)
        var columnScales = [Float](repeating: 0, count: n)
        for j in 0..<n {
            let accumulatorScale = Double(input.scale) * Double(weightScales.count == 1 ? weightScales[0] : weightScales[j])
            let biasUnits = bias.map { (Double($0[j]) / accumulatorScale).rounded(.toNearestOrEven) } ?? 0
            colBias[j] = Int32(max(min(biasUnits - folded(j), Double(Int32.max)), Double(Int32.min)))
            columnScales[j] = Float(floatOutput ? accumulatorScale : accumulatorScale / Double(output.scale))
        }
        self.init(colBias: colBias, scales: columnScales, output: output, fixedPoint: fixedPoint && !floatOutput)
    }

    /// Calls `body` with the C epilogue (u8 output, or the raw int32 sums with `outType` S32),
    /// optionally with per-row biases.
    func withEpilogue<R>(rowBias: UnsafePointer<Int32>? = nil, outType: onboard_q8_out_type = ONBOARD_Q8_OUT_U8,
                         _ body: (UnsafePointer<onboard_q8_epilogue>) -> R) -> R {
        elementBias.withUnsafeBufferPointer { element in
            colBias.withUnsafeBufferPointer { bias in
                scales.withUnsafeBufferPointer { scale in
                    multipliers.withUnsafeBufferPointer { multiplier in
                        shifts.withUnsafeBufferPointer { shift in
                            var e = onboard_q8_epilogue()
                            e.col_bias = bias.baseAddress
                            e.row_bias = rowBias
                            e.scale = scale.baseAddress
                            e.scale_per_column = columns > 1 ? 1 : 0
                            e.use_fixed_point = useFixedPoint ? 1 : 0
                            e.multiplier = multiplier.baseAddress
                            e.shift = shift.baseAddress
                            e.out_zero_point = output.zeroPoint
                            e.out_min = output.qmin
                            e.out_max = output.qmax
                            e.out_type = outType
                            // An empty array may still hand out a base address.
                            if !element.isEmpty, let base = element.baseAddress {
                                e.tile_bias = base
                                e.tile_bias_ld = columns
                            }
                            return withUnsafePointer(to: &e) { body($0) }
                        }
                    }
                }
            }
        }
    }
}

/// Float <-> code conversions of whole tensors, spread over threads.
enum ActivationCodec {
    static func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<UInt8>, count: Int, _ q: ActivationQuant, threads: Int) {
        Parallel.forRanges(count: count, threads: threads, grain: 16384) { r in
            onboard_q8_quantize_u8(x + r.lowerBound, y + r.lowerBound, r.count, q.scale, q.zeroPoint, q.qmin, q.qmax)
        }
    }

    static func dequantize(_ x: UnsafePointer<UInt8>, into y: UnsafeMutablePointer<Float>, count: Int, _ q: ActivationQuant, threads: Int) {
        Parallel.forRanges(count: count, threads: threads, grain: 16384) { r in
            onboard_q8_dequantize_u8(x + r.lowerBound, y + r.lowerBound, r.count, q.scale, q.zeroPoint)
        }
    }
}
