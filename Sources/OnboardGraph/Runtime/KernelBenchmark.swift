import CKernels
import OnboardCore

/// Times the GEMM kernels alone on random operands (for peer comparisons of raw throughput).
public enum KernelBenchmark {
    public enum Precision: String, Sendable { case fp32, int8 }

    /// Median seconds of C[M,N] = A[M,K] · B[K,N] with B packed once (as weights are), `threads`
    /// workers splitting column panels. INT8 writes int32 like ONNX Runtime's MatMulInteger.
    public static func gemm(m: Int, k: Int, n: Int, precision: Precision, threads: Int, iterations: Int) -> TimingSummary {
        var random = SplitMix64(seed: 42)
        var times: [Double] = []
        switch precision {
        case .int8:
            let a = (0..<(m * k)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let b = (0..<(k * n)).map { _ in Int8(truncatingIfNeeded: random.next()) }
            var packed = [Int8](repeating: 0, count: onboard_q8_packed_size(k, n))
            onboard_q8_pack_b(b, n, false, k, n, &packed, nil)
            let c = AlignedBuffer(byteCount: m * n * 4)
            var epilogue = onboard_q8_epilogue()
            epilogue.out_type = ONBOARD_Q8_OUT_S32
            let panels = (n + Int(ONBOARD_Q8_NR) - 1) / Int(ONBOARD_Q8_NR)
            for iteration in 0..<(iterations + 2) {
                let start = ProcessStats.seconds()
                Parallel.forRanges(count: (panels + 1) / 2, threads: threads) { pairs in
                    onboard_q8_gemm(m, n, k, a, k, packed, &epilogue, c.pointer, n, pairs.lowerBound * 2, min(pairs.upperBound * 2, panels))
                }
                if iteration >= 2 { times.append(ProcessStats.seconds() - start) }
            }
        case .fp32:
            let a = (0..<(m * k)).map { _ in random.nextGaussian() }
            let b = (0..<(k * n)).map { _ in random.nextGaussian() }
            let packed = PackedMatrix(b, k: k, n: n, transposed: false)
            let c = AlignedBuffer(byteCount: m * n * 4)
            for iteration in 0..<(iterations + 2) {
                let start = ProcessStats.seconds()
                PackedGEMM.multiply(m: m, a: a, lda: k, b: packed, bias: nil,
                                    c: c.pointer.assumingMemoryBound(to: Float.self), ldc: n, threads: threads)
                if iteration >= 2 { times.append(ProcessStats.seconds() - start) }
            }
        }
        return TimingSummary(times)
    }
}
