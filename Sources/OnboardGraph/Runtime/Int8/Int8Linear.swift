import CKernels
import OnboardCore

/// An integer product against a constant int8 weight [N, K] (a Linear, or one group of a conv):
/// weights packed once, bias and zero-point terms folded into int32 column biases (and a bias
/// per output element into an int32 table of its own).
final class Int8Linear {
    let k: Int
    let n: Int
    let weights: PackedWeights
    let tables: EpilogueTables
    /// u8 codes, or f32 values (accumulators times their scale) for a dequantized graph output.
    let outType: onboard_q8_out_type

    /// Bytes the kernels keep: packed codes, the int32 / f32 per-column tables and any per-element bias.
    var byteCount: Int { weights.byteCount + n * 8 + tables.elementBias.count * 4 }

    /// - Parameters:
    ///   - codes: int8 codes of the weight [N, K] (row j = output j), `scales` one or N; `weightBits`
    ///     4 packs them two per byte (codes in [-8, 7]).
    ///   - bias: f32 [N] or nil.
    ///   - elementBias: f32 [rows, N] added to output element (i, j), or nil.
    ///   - inputOffset: the input's real value at code 0 when it is not a multiple of its scale (a
    ///     Shift-Log2 input read through its product codes); nil: `-scale * zeroPoint`.
    ///   - packed: `codes` already packed (by another executor of the same model), used when its
    ///     sizes and bits match.
    init(codes: UnsafePointer<Int8>, scales: [Float], n: Int, k: Int, bias: UnsafePointer<Float>?,
         elementBias: UnsafeBufferPointer<Float>? = nil, weightBits: Int = 8,
         input: ActivationQuant, inputOffset: Float? = nil, output: ActivationQuant, fixedPoint: Bool,
         floatOutput: Bool = false, packed: PackedWeights? = nil) {
        self.k = k
        self.n = n
        if let packed, packed.n == n, packed.k == k, packed.bits == weightBits {
            weights = packed
        } else {
            weights = PackedWeights(codes: codes, n: n, k: k, bits: weightBits)
        }
        let columnSums = weights.columnSums
        let zeroPoint = inputOffset.map { -Double($0) / Double(input.scale) } ?? Double(input.zeroPoint)
        // Σ (a - za) w = Σ a w - za Σ w; the bias joins in accumulator units.
        tables = EpilogueTables(bias: bias, weightScales: scales, columns: n, input: input, output: output, fixedPoint: fixedPoint,
                                floatOutput: floatOutput) { (zeroPoint * Double(columnSums[$0])).rounded(.toNearestOrEven) }
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
        let panels = weights.panels
        withEpilogue { epilogue in
            // Panels in pairs, so the two-panel AVX-512 tile is not split across threads.
            Parallel.forRanges(count: (panels + 1) / 2, threads: threads) { pairs in
                weights.gemm(m: m, a: a, lda: lda, epilogue: epilogue, out: out, ldc: ldc,
                             panels: (pairs.lowerBound * 2)..<min(pairs.upperBound * 2, panels))
            }
        }
    }

    /// The epilogue of this Linear's products as `run` hands it to the kernels (read-only, so
    /// threads may share it).
    func withEpilogue<R>(_ body: (UnsafePointer<onboard_q8_epilogue>) -> R) -> R {
        tables.withEpilogue(outType: outType) { shared in
            var epilogue = shared.pointee
            epilogue.b_fits_7_bits = weights.fitsSevenBits ? 1 : 0
            return withUnsafePointer(to: &epilogue) { body($0) }
        }
    }

    /// The product's [rows, width] blocks of `split`, block i written at `outputs[i]`, instead of a
    /// whole [M, N] output.
    func run(_ a: UnsafePointer<UInt8>, lda: Int, split: HeadSplit, outputs: [UnsafeMutablePointer<UInt8>], threads: Int) {
        let panelsPerGroup = split.width / Int(ONBOARD_Q8_NR)
        tables.withEpilogue(outType: outType) { shared in
            Parallel.forRanges(count: split.blocks.count, threads: threads) { range in
                for i in range {
                    let block = split.blocks[i]
                    // The GEMM's row 0 is the block's first row: a per-element bias moves with it.
                    var epilogue = shared.pointee
                    epilogue.b_fits_7_bits = weights.fitsSevenBits ? 1 : 0
                    if let bias = epilogue.tile_bias { epilogue.tile_bias = bias + block.firstRow * epilogue.tile_bias_ld }
                    weights.gemmPanelsInto(m: split.rows, a: a + block.firstRow * lda, lda: lda, epilogue: &epilogue,
                                           out: outputs[i], ldc: split.width,
                                           panels: (block.group * panelsPerGroup)..<((block.group + 1) * panelsPerGroup))
                }
            }
        }
    }
}
