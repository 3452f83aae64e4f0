import CKernels
import OnboardCore

/// Times the GEMM kernels alone on random operands (for peer comparisons of raw throughput).
public enum KernelBenchmark {
    public enum Precision: String, Sendable { case fp32, int8 }

    /// Median seconds of C[M,N] = A[M,K] · B[K,N] with B packed once (as weights are), `threads`
    /// workers splitting column panels. INT8 writes int32 like ONNX Runtime's MatMulInteger.
    /// Untimed warm-up runs last at least `warmupSeconds` (new worker threads and clocks settle).
    /// INT8 weights are random codes of `weightBits` bits: 8 (-128...127), 7 (-64...64, which
    /// selects the narrow-range kernels where the CPU has them) or 4 (-8...7, packed two a byte:
    /// the q4_gemm kernels).
    public static func gemm(m: Int, k: Int, n: Int, precision: Precision, threads: Int, iterations: Int,
                            weightBits: Int = 8, warmupSeconds: Double = 0.2) -> TimingSummary {
        var random = SplitMix64(seed: 42)
        var times: [Double] = []
        switch precision {
        case .int8:
            let a = (0..<(m * k)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let b = (0..<(k * n)).map { _ in
                switch weightBits {
                case 7: Int8(Int(random.next() % 129) - 64)
                case 4: Int8(Int(random.next() % 16) - 8)
                default: Int8(truncatingIfNeeded: random.next())
                }
            }
            let nibbles = weightBits == 4
            var packed = [Int8](repeating: 0, count: nibbles ? 0 : onboard_q8_packed_size(k, n))
            var packed4 = [UInt8](repeating: 0, count: nibbles ? onboard_q4_packed_size(k, n) : 0)
            if nibbles { onboard_q4_pack_b(b, n, false, k, n, &packed4, nil) } else { onboard_q8_pack_b(b, n, false, k, n, &packed, nil) }
            let c = AlignedBuffer(byteCount: m * n * 4)
            var epilogue = onboard_q8_epilogue()
            epilogue.out_type = ONBOARD_Q8_OUT_S32
            epilogue.b_fits_7_bits = onboard_q8_b_fits_7_bits(b, n, k, n) ? 1 : 0
            let panels = (n + Int(ONBOARD_Q8_NR) - 1) / Int(ONBOARD_Q8_NR)
            times = timed(iterations: iterations, warmupSeconds: warmupSeconds) {
                Parallel.forRanges(count: (panels + 1) / 2, threads: threads) { pairs in
                    let (begin, end) = (pairs.lowerBound * 2, min(pairs.upperBound * 2, panels))
                    if nibbles { onboard_q4_gemm(m, n, k, a, k, packed4, &epilogue, c.pointer, n, begin, end) }
                    else { onboard_q8_gemm(m, n, k, a, k, packed, &epilogue, c.pointer, n, begin, end) }
                }
            }
        case .fp32:
            let a = (0..<(m * k)).map { _ in random.nextGaussian() }
            let b = (0..<(k * n)).map { _ in random.nextGaussian() }
            let packed = PackedMatrix(b, k: k, n: n, transposed: false)
            let c = AlignedBuffer(byteCount: m * n * 4)
            times = timed(iterations: iterations, warmupSeconds: warmupSeconds) {
                PackedGEMM.multiply(m: m, a: a, lda: k, b: packed, bias: nil,
                                    c: c.pointer.assumingMemoryBound(to: Float.self), ldc: n, threads: threads)
            }
        }
        return TimingSummary(times)
    }

    /// Seconds of each of `iterations` runs of `body`, after at least two untimed runs lasting
    /// `warmupSeconds` in all.
    private static func timed(iterations: Int, warmupSeconds: Double, _ body: () -> Void) -> [Double] {
        let warmupStart = ProcessStats.seconds()
        var warmups = 0
        while warmups < 2 || ProcessStats.seconds() - warmupStart < warmupSeconds {
            body()
            warmups += 1
        }
        return (0..<iterations).map { _ in
            let start = ProcessStats.seconds()
            body()
            return ProcessStats.seconds() - start
        }
    }
}
