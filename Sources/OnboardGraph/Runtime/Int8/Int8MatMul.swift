import CKernels
import OnboardCore

/// Batched product of two quantized activations (attention's QKᵀ and AV). B is shifted to int8
/// and packed at run time (`onboard_q8_product_pack_b`: as int16 pairs on a CPU without an int8
/// dot product); its zero point and A's become per-row and per-column int32 biases:
///   Σ (a - za)(b - zb) = Σ a·b' - za Σ b' + c Σ a - c·K·za,  with b' = b - 128 and c = 128 - zb.
/// With `stabilized` (QANS logits, see `SoftmaxStabilization`) blocks of `blockRows` rows go
/// to int32 first and `StabilizedLogits` subtracts each row's max before requantizing. With
/// `normalizesRows` (A holds a softmax with deferred normalization, see `SoftmaxNormalization`) the
/// int32 blocks are divided by A's row sums instead (`RowDivision`).
enum Int8MatMul {
    /// Rows per int32 block of a stabilized or row-normalized product (a multiple of the kernels' 12-row tiles).
    static let blockRows = 48

    static func scratchBytes(m: Int, n: Int, k: Int, threads: Int, stabilized: Bool = false, normalizesRows: Bool = false) -> Int {
        let sums = stabilized || normalizesRows ? 4 * min(m, blockRows) * n + 64 : 0
        let rowSums = normalizesRows ? 4 * m + 64 : 0
        return (onboard_q8_product_packed_size(k, n) + 64 + 4 * (m + 2 * n) + 64 + sums + rowSums) * threads
    }

    static func run(
        a: UnsafePointer<UInt8>, aShape: [Int], aq: ActivationQuant,
        b: UnsafePointer<UInt8>, bShape: [Int], bq: ActivationQuant, transposeB: Bool, alpha: Float,
        out: UnsafeMutablePointer<UInt8>, outq: ActivationQuant, fixedPoint: Bool, stabilized: Bool = false, normalizesRows: Bool = false,
        scratch: UnsafeMutableRawPointer, threads: Int
    ) {
        let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1]
        let n = transposeB ? bShape[bShape.count - 2] : bShape[bShape.count - 1]
        let batches = aShape.dropLast(2).reduce(1, *)
        let bStride = bShape.count == 2 ? 0 : k * n
        let perThread = scratchBytes(m: m, n: n, k: k, threads: 1, stabilized: stabilized, normalizesRows: normalizesRows)
        let scale = Float(Double(alpha) * Double(aq.scale) * Double(bq.scale) / Double(outq.scale))
        let stabilizer = stabilized ? StabilizedLogits(scale: scale, output: outq, fixedPoint: fixedPoint) : nil
        let division = normalizesRows ? RowDivision(scale: Double(alpha) * Double(bq.scale) / Double(outq.scale), output: outq) : nil
        let c = 128 - bq.zeroPoint
        let workers = min(threads, max(batches, 1))
        // One product per worker at a time; few products get the threads through their panels instead.
        let innerThreads = batches < threads ? threads : 1
        Parallel.forRanges(count: workers, threads: workers) { range in
            for worker in range {
                let base = scratch + worker * perThread
                let packed = base
                let tables = (base + onboard_q8_product_packed_size(k, n) + 64).assumingMemoryBound(to: Int32.self)
                let rowBias = tables, columnSums = tables + m, colBias = tables + m + n
                let sums = (base + onboard_q8_product_packed_size(k, n) + 64 + 4 * (m + 2 * n) + 64).assumingMemoryBound(to: Int32.self)
                let rowSums = sums + (4 * min(m, blockRows) * n + 64) / 4
                for i in (batches * worker / workers)..<(batches * (worker + 1) / workers) {
                    let ai = a + i * m * k
                    onboard_q8_row_sums(ai, m, k, k, rowBias)
                    if division != nil { rowSums.update(from: rowBias, count: m) }
                    for r in 0..<m { rowBias[r] = c &* rowBias[r] }
                    onboard_q8_product_pack_b(b + i * bStride, transposeB ? k : n, transposeB, k, n, packed, columnSums)
                    let constant = c &* Int32(k) &* aq.zeroPoint
                    for j in 0..<n { colBias[j] = -aq.zeroPoint &* columnSums[j] &- constant }
                    let epilogueTables = EpilogueTables(colBias: Array(UnsafeBufferPointer(start: colBias, count: n)),
                                                        scales: [scale], output: outq, fixedPoint: fixedPoint)
                    let panels = (n + Int(ONBOARD_Q8_NR) - 1) / Int(ONBOARD_Q8_NR)
                    guard stabilizer != nil || division != nil else {
                        epilogueTables.withEpilogue(rowBias: rowBias) { epilogue in
                            Parallel.forRanges(count: (panels + 1) / 2, threads: innerThreads) { pairs in
                                onboard_q8_product(m, n, k, ai, k, packed, epilogue, out + i * m * n, n,
                                                pairs.lowerBound * 2, min(pairs.upperBound * 2, panels))
                            }
                        }
                        continue
                    }
                    for r0 in stride(from: 0, to: m, by: blockRows) {
                        let rows = min(blockRows, m - r0)
                        epilogueTables.withEpilogue(rowBias: rowBias + r0, outType: ONBOARD_Q8_OUT_S32) { epilogue in
                            Parallel.forRanges(count: (panels + 1) / 2, threads: innerThreads) { pairs in
                                onboard_q8_product(rows, n, k, ai + r0 * k, k, packed, epilogue, sums, n,
                                                pairs.lowerBound * 2, min(pairs.upperBound * 2, panels))
                            }
                        }
                        Parallel.forRanges(count: rows, threads: innerThreads) { block in
                            let target = out + i * m * n + r0 * n
                            if let stabilizer { stabilizer.run(UnsafePointer(sums), rows: block, width: n, into: target) }
                            if let division { division.run(UnsafePointer(sums), rows: block, width: n, rowSums: rowSums + r0, into: target) }
                        }
                    }
                }
            }
        }
    }
}
