import CKernels
import OnboardCore

/// An integer product against a constant int8 weight [N, K] (a Linear, or one group of a conv):
/// weights packed once, bias and zero-point terms folded into int32 column biases (and a bias
/// per output element into an int32 table of its own).
final class Int8Linear {
    let k: Int
    let n: Int
    private let packed: AlignedBuffer
    let tables: EpilogueTables
    /// u8 codes, or f32 values (accumulators times their scale) for a dequantized graph output.
    let outType: onboard_q8_out_type
    /// Every code in [-64, 64] (7-bit weights): CPUs without an int8 dot product then run an exact vpmaddubsw kernel.
    let fitsSevenBits: Bool

    /// Bytes the kernels keep: packed codes, the int32 / f32 per-column tables and any per-element bias.
    var byteCount: Int { packed.byteCount + n * 8 + tables.elementBias.count * 4 }

    /// - Parameters:
    ///   - codes: int8 codes of the weight [N, K] (row j = output j), `scales` one or N.
    ///   - bias: f32 [N] or nil.
    ///   - elementBias: f32 [rows, N] added to output element (i, j), or nil.
    init(codes: UnsafePointer<Int8>, scales: [Float], n: Int, k: Int, bias: UnsafePointer<Float>?,
         elementBias: UnsafeBufferPointer<Float>? = nil,
         input: ActivationQuant, output: ActivationQuant, fixedPoint: Bool, floatOutput: Bool = false) {
        self.k = k
        self.n = n
        packed = AlignedBuffer(byteCount: max(onboard_q8_packed_size(k, n), 1))
        fitsSevenBits = onboard_q8_b_fits_7_bits(codes, k, n, k)
        var columnSums = [Int32](repeating: 0, count: n)
        onboard_q8_pack_b(codes, k, true, k, n, packed.pointer.assumingMemoryBound(to: Int8.self), &columnSums)
        var colBias = [Int32](repeating: 0, count: n)
        var columnScales = [Float](repeating: 0, count: n)
        for j in 0..<n {
            let weightScale = scales.count == 1 ? scales[0] : scales[j]
            let accumulatorScale = Double(input.scale) * Double(weightScale)
            // Σ (a - za) w = Σ a w - za Σ w; the bias joins in accumulator units.
            let biasUnits = bias.map { (Double($0[j]) / accumulatorScale).rounded(.toNearestOrEven) } ?? 0
            let folded = biasUnits - Double(input.zeroPoint) * Double(columnSums[j])
            colBias[j] = Int32(max(min(folded, Double(Int32.max)), Double(Int32.min)))
            columnScales[j] = Float(floatOutput ? accumulatorScale : accumulatorScale / Double(output.scale))
        }
        tables = EpilogueTables(colBias: colBias, scales: columnScales, output: output, fixedPoint: fixedPoint && !floatOutput)
        if let elementBias {
            tables.elementBias = elementBias.enumerated().map { index, value in
                let weightScale = scales.count == 1 ? scales[0] : scales[index % n]
                let units = (Double(value) / (Double(input.scale) * Double(weightScale))).rounded(.toNearestOrEven)
                return Int32(max(min(units, Double(Int32.max)), Double(Int32.min)))
            }
        }
        outType = floatOutput ? ONBOARD_Q8_OUT_F32 : ONBOARD_Q8_OUT_U8
    }

    /// out[M, N] (u8 codes or f32, row stride ldc elements) from a[M, K] (u8 codes, row stride lda).
    func run(_ a: UnsafePointer<UInt8>, m: Int, lda: Int, into out: UnsafeMutableRawPointer, ldc: Int, threads: Int) {
        let panels = (n + Int(ONBOARD_Q8_NR) - 1) / Int(ONBOARD_Q8_NR)
        let weights = UnsafePointer(packed.pointer.assumingMemoryBound(to: Int8.self))
        tables.withEpilogue(outType: outType) { shared in
            var epilogue = shared.pointee
            epilogue.b_fits_7_bits = fitsSevenBits ? 1 : 0
            // Panels in pairs, so the two-panel AVX-512 tile is not split across threads.
            Parallel.forRanges(count: (panels + 1) / 2, threads: threads) { pairs in
                onboard_q8_gemm(m, n, k, a, lda, weights, &epilogue, out, ldc,
                                pairs.lowerBound * 2, min(pairs.upperBound * 2, panels))
            }
        }
    }

    /// The product's [rows, width] blocks of `split`, block i written at `outputs[i]`, instead of a
    /// whole [M, N] output.
    func run(_ a: UnsafePointer<UInt8>, lda: Int, split: HeadSplit, outputs: [UnsafeMutablePointer<UInt8>], threads: Int) {
        let weights = UnsafePointer(packed.pointer.assumingMemoryBound(to: Int8.self))
        let panelsPerGroup = split.width / Int(ONBOARD_Q8_NR)
        tables.withEpilogue(outType: outType) { shared in
            Parallel.forRanges(count: split.blocks.count, threads: threads) { range in
                for i in range {
                    let block = split.blocks[i]
                    // The GEMM's row 0 is the block's first row: a per-element bias moves with it.
                    var epilogue = shared.pointee
                    epilogue.b_fits_7_bits = fitsSevenBits ? 1 : 0
                    if let bias = epilogue.tile_bias { epilogue.tile_bias = bias + block.firstRow * epilogue.tile_bias_ld }
                    onboard_q8_gemm_panels_into(split.rows, n, k, a + block.firstRow * lda, lda, weights, &epilogue, outputs[i], split.width,
                                                block.group * panelsPerGroup, (block.group + 1) * panelsPerGroup)
                }
            }
        }
    }
}
