import OnboardCore

/// Batched `a · b` / `a · bᵀ` with one GEMM per batch item, items spread over threads.
enum MatMulOp {
    static func outputShape(_ s: [[Int]], transposeB: Bool, fail: (String) -> OnboardError) throws -> [Int] {
        let a = s[0], b = s[1]
        guard a.count >= 2, b.count >= 2 else { throw fail("operands need rank >= 2, got \(a) and \(b)") }
        let k = a[a.count - 1]
        let (kb, n) = transposeB ? (b[b.count - 1], b[b.count - 2]) : (b[b.count - 2], b[b.count - 1])
        guard k == kb else { throw fail("inner dimensions differ: \(a) x \(b)\(transposeB ? "ᵀ" : "")") }
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        guard batchB.isEmpty || batchB == batchA else { throw fail("batch dimensions \(batchA) and \(batchB) differ") }
        return batchA + [a[a.count - 2], n]
    }

    static func run(_ inputs: [Operand], _ output: Operand, transposeB: Bool, _ context: KernelContext) {
        let a = inputs[0].shape, b = inputs[1].shape
        let m = a[a.count - 2], k = a[a.count - 1]
        let n = output.shape[output.shape.count - 1]
        let batches = a.dropLast(2).reduce(1, *)
        let bShared = b.count == 2
        let pa = inputs[0].floats, pb = inputs[1].floats, pc = output.floats
        guard m > 0, n > 0 else { return }
        if k == 0 {
            pc.update(repeating: 0, count: batches * m * n)
            return
        }
        // Few large products: let BLAS thread each; many small ones: one thread each.
        if batches < context.threads {
            BLASThreads.set(context.threads)
            for i in 0..<batches {
                sgemm(m: m, n: n, k: k, a: pa + i * m * k, lda: k, b: pb + (bShared ? 0 : i * k * n),
                      ldb: transposeB ? k : n, transposeB: transposeB, c: pc + i * m * n, ldc: n)
            }
            return
        }
        BLASThreads.set(1)
        Parallel.forRanges(count: batches, threads: context.threads) { range in
            for i in range {
                sgemm(m: m, n: n, k: k, a: pa + i * m * k, lda: k, b: pb + (bShared ? 0 : i * k * n),
                      ldb: transposeB ? k : n, transposeB: transposeB, c: pc + i * m * n, ldc: n)
            }
        }
    }
}
