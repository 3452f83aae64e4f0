import OnboardCore

/// Batched `a · b` / `a · bᵀ` with one GEMM per batch item, items spread over threads.
struct MatMulOp: OpDefinition {
    let transposeB: Bool
    let alpha: Float

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(2...2)
        try check.float(0..<2)
        return (try Self.outputShape(check.shapes, transposeB: transposeB, fail: check.fail), .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int {
        Self.scratchBytes(inputShapes: inputs, transposeB: transposeB, threads: threads)
    }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.run(inputs, output, transposeB: transposeB, alpha: alpha, context)
    }

    var quantization: QuantizationTraits {
        QuantizationTraits(form: .integerKernel(.matmul(transposeB: transposeB, alpha: alpha)), islandOnCodes: nil)
    }

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

    /// Scratch: one packed right-hand side per thread.
    static func scratchBytes(inputShapes s: [[Int]], transposeB: Bool, threads: Int) -> Int {
        let b = s[1]
        let (k, n) = transposeB ? (b[b.count - 1], b[b.count - 2]) : (b[b.count - 2], b[b.count - 1])
        return PackedGEMM.packedFloats(k: k, n: n) * 4 * threads
    }

    static func run(_ inputs: [Operand], _ output: Operand, transposeB: Bool, alpha: Float, _ context: KernelContext) {
        let a = inputs[0].shape
        let m = a[a.count - 2], k = a[a.count - 1]
        let n = output.shape[output.shape.count - 1]
        let batches = a.dropLast(2).reduce(1, *)
        let bStride = inputs[1].shape.count == 2 ? 0 : k * n
        let pa = inputs[0].floats, pb = inputs[1].floats, pc = output.floats
        guard m > 0, n > 0 else { return }
        let scratch = context.scratch.assumingMemoryBound(to: Float.self)
        let perThread = PackedGEMM.packedFloats(k: k, n: n)
        if batches < context.threads {
            // Few products: pack each once and split its panels over the threads.
            for i in 0..<batches {
                let packed = PackedMatrix(pb + i * bStride, k: k, n: n, transposed: transposeB, alpha: alpha)
                PackedGEMM.multiply(m: m, a: pa + i * m * k, lda: k, b: packed, bias: nil,
                                    c: pc + i * m * n, ldc: n, threads: context.threads)
            }
            return
        }
        // Many products (attention heads): work units are (product, row block) pairs so every
        // thread gets an equal share; a thread re-packs B into its own scratch when its product changes.
        let rowBlocks = max(1, min(m / 48, (2 * context.threads + batches - 1) / batches))
        let units = batches * rowBlocks
        Parallel.forRanges(count: context.threads, threads: context.threads) { workers in
            for worker in workers {
                let packed = scratch + worker * perThread
                var current = -1
                for unit in (units * worker / context.threads)..<(units * (worker + 1) / context.threads) {
                    let i = unit / rowBlocks, block = unit % rowBlocks
                    if i != current {
                        PackedGEMM.pack(pb + i * bStride, k: k, n: n, transposed: transposeB, alpha: alpha, into: packed)
                        current = i
                    }
                    let rows = (m * block / rowBlocks)..<(m * (block + 1) / rowBlocks)
                    PackedGEMM.multiply(m: rows.count, n: n, k: k, a: pa + i * m * k + rows.lowerBound * k,
                                        packed: packed, c: pc + i * m * n + rows.lowerBound * n)
                }
            }
        }
    }
}
