import CKernels
import OnboardCore

/// Float-island ops that need no float tensor at all when their operands are codes:
/// unary ops become a 256-entry table (computed with the FP32 kernel itself, so the result is
/// exactly the island's), same-shape add/sub fuse dequantize, add and quantize in one pass.
enum QuantizedElementwise {
    /// Code-to-code table of a unary op between two parameter sets.
    static func table(_ node: Node, input: ActivationQuant, output: ActivationQuant) throws -> [UInt8] {
        try codesOfUnary(node, at: everyCode(input), output: output)
    }

    /// The values of the 256 codes under `input`, as a 1-D f32 tensor.
    static func everyCode(_ input: ActivationQuant) -> Tensor {
        let x = Tensor(zeros: [256])
        let codes = (0...255).map(UInt8.init)
        codes.withUnsafeBufferPointer { onboard_q8_dequantize_u8($0.baseAddress, x.floatPointer, 256, input.scale, input.zeroPoint) }
        return x
    }

    /// The output codes of a unary op on the values of `x` (a 1-D f32 tensor): its FP32 kernel,
    /// then `output`'s quantization, as the code tables compute it.
    static func codesOfUnary(_ node: Node, at x: Tensor, output: ActivationQuant) throws -> [UInt8] {
        let y = try valuesOfUnary(node, at: x)
        var codes = [UInt8](repeating: 0, count: x.count)
        onboard_q8_quantize_u8(y.floatPointer, &codes, x.count, output.scale, output.zeroPoint, output.qmin, output.qmax)
        return codes
    }

    /// The unary op's FP32 kernel on the values of `x` (a 1-D f32 tensor).
    static func valuesOfUnary(_ node: Node, at x: Tensor) throws -> Tensor {
        let y = Tensor(zeros: x.shape)
        let scratch = AlignedBuffer(byteCount: 64)
        try FP32Kernels.run(node, [Operand(pointer: x.rawPointer, shape: x.shape, dtype: .f32)],
                            Operand(pointer: y.rawPointer, shape: x.shape, dtype: .f32),
                            KernelContext(threads: 1, scratch: scratch.pointer))
        return y
    }

    static func lookup(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<UInt8>, count: Int, table: [UInt8], threads: Int) {
        table.withUnsafeBufferPointer { t in
            Parallel.forRanges(count: count, threads: threads, grain: 65536) { r in
                onboard_q8_lookup_u8(x + r.lowerBound, y + r.lowerBound, r.count, t.baseAddress)
            }
        }
    }

    static func add(
        _ a: UnsafePointer<UInt8>, _ aq: ActivationQuant, _ b: UnsafePointer<UInt8>, _ bq: ActivationQuant, subtract: Bool,
        into y: UnsafeMutablePointer<UInt8>, _ yq: ActivationQuant, count: Int, threads: Int
    ) {
        Parallel.forRanges(count: count, threads: threads, grain: 32768) { r in
            onboard_q8_add_u8(a + r.lowerBound, aq.scale, aq.zeroPoint, b + r.lowerBound, bq.scale, bq.zeroPoint, subtract ? -1 : 1,
                              y + r.lowerBound, r.count, yq.scale, yq.zeroPoint, yq.qmin, yq.qmax)
        }
    }

    /// The same add in integers only (recipe `"requantization": "fixed_point"`).
    static func add(
        _ a: UnsafePointer<UInt8>, _ aq: ActivationQuant, _ b: UnsafePointer<UInt8>, _ bq: ActivationQuant,
        into y: UnsafeMutablePointer<UInt8>, _ yq: ActivationQuant, count: Int, multipliers: DyadicAdd, threads: Int
    ) {
        Parallel.forRanges(count: count, threads: threads, grain: 32768) { r in
            onboard_q8_add_u8_dyadic(a + r.lowerBound, aq.zeroPoint, multipliers.a, b + r.lowerBound, bq.zeroPoint, multipliers.b,
                                     multipliers.shift, y + r.lowerBound, r.count, yq.zeroPoint, yq.qmin, yq.qmax)
        }
    }

    /// An add/sub of codes and a constant in integers only; the constant repeats over `count`
    /// when it is shorter (broadcast over leading dimensions).
    static func add(
        _ a: UnsafePointer<UInt8>, _ aq: ActivationQuant, constant: DyadicConstantAdd,
        into y: UnsafeMutablePointer<UInt8>, _ yq: ActivationQuant, count: Int, threads: Int
    ) {
        constant.addend.withUnsafeBufferPointer { addend in
            guard let base = addend.baseAddress, addend.count > 0 else { return }
            let period = addend.count
            Parallel.forRanges(count: count, threads: threads, grain: 32768) { r in
                // The constant repeats every `period` elements: split the range where it wraps.
                var start = r.lowerBound
                while start < r.upperBound {
                    let phase = start % period
                    let n = min(r.upperBound - start, period - phase)
                    onboard_q8_add_const_u8_dyadic(a + start, aq.zeroPoint, constant.multiplier, base + phase,
                                                   constant.shift, y + start, n, yq.zeroPoint, yq.qmin, yq.qmax)
                    start += n
                }
            }
        }
    }
}

/// The two scale ratios of an integer add, `a.scale / y.scale` and `±b.scale / y.scale`, as 30-bit
/// multipliers over one power of two: the larger lies in [2^29, 2^30), so both keep 29 bits or
/// more of the ratio's precision relative to it.
struct DyadicAdd: Equatable {
    let a: Int32, b: Int32, shift: Int32

    /// nil when the ratios cannot share a shift in 1...62 (output steps absurdly far from the inputs').
    init?(a aq: ActivationQuant, b bq: ActivationQuant, subtract: Bool, output yq: ActivationQuant) {
        let ra = Double(aq.scale) / Double(yq.scale), rb = Double(bq.scale) / Double(yq.scale)
        let largest = max(ra, rb)
        guard largest.isFinite, largest > 0 else { return nil }
        let shift = 29 - Int(largest.exponent)
        guard (1...62).contains(shift) else { return nil }
        let unit = Double(sign: .plus, exponent: shift, significand: 1)
        a = Int32((ra * unit).rounded())
        b = Int32((rb * unit).rounded()) * (subtract ? -1 : 1)
        self.shift = Int32(shift)
    }
}

/// Row ops (softmax, layernorm) on codes, row blocks per thread: each block is dequantized,
/// normalized and quantized while it sits in cache. Same arithmetic as the plain island.
enum QuantizedRows {
    static func supports(_ normalization: RowNormalization, _ node: Node, graph: Graph) -> Bool {
        guard let n = graph.info(node.inputs[0]).shape.last, n > 0, n <= blockFloats else { return false }
        switch normalization {
        case .softmax: return true
        case .layerNorm: return graph.constants[node.inputs[1]] != nil && graph.constants[node.inputs[2]] != nil
        }
    }

    static let blockFloats = 8192

    static func scratchBytes(threads: Int) -> Int { threads * (blockFloats * 4 + 64) }

    static func run(
        _ normalization: RowNormalization, x: UnsafePointer<UInt8>, xq: ActivationQuant, y: UnsafeMutablePointer<UInt8>, yq: ActivationQuant,
        shape: [Int], gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
        scratch: UnsafeMutableRawPointer, threads: Int
    ) {
        guard let n = shape.last, n > 0 else { return }
        let rows = shape.reduce(1, *) / n
        let rowsPerBlock = max(1, blockFloats / n)
        let workers = max(1, min(threads, rows))
        Parallel.forRanges(count: workers, threads: workers) { range in
            for worker in range {
                let buffer = (scratch + worker * (blockFloats * 4 + 64)).assumingMemoryBound(to: Float.self)
                let mine = (rows * worker / workers)..<(rows * (worker + 1) / workers)
                var start = mine.lowerBound
                while start < mine.upperBound {
                    let count = min(rowsPerBlock, mine.upperBound - start)
                    onboard_q8_dequantize_u8(x + start * n, buffer, count * n, xq.scale, xq.zeroPoint)
                    if case let .layerNorm(epsilon) = normalization, let gamma, let beta {
                        onboard_f32_layernorm_rows(buffer, buffer, count, n, gamma, beta, epsilon)
                    } else {
                        onboard_f32_softmax_rows(buffer, buffer, count, n)
                    }
                    onboard_q8_quantize_u8(buffer, y + start * n, count * n, yq.scale, yq.zeroPoint, yq.qmin, yq.qmax)
                    start += count
                }
            }
        }
    }
}

/// `±a ± c` for codes `a` and a float constant `c` (same shape, or repeated over leading dimensions): the ratio `a.scale / y.scale` as a
/// multiplier and `±c / y.scale` as int32 addends (a bias in output codes), both over 2^shift, the
/// largest shift that keeps each below 2^30.
struct DyadicConstantAdd {
    let multiplier: Int32, shift: Int32, addend: [Int32]

    /// nil when no shift in 1...62 holds both (steps or constants absurdly far from the output's).
    init?(codes aq: ActivationQuant, negateCodes: Bool, constant: UnsafeBufferPointer<Float>, negateConstant: Bool,
          output yq: ActivationQuant) {
        let ratio = Double(aq.scale) / Double(yq.scale)
        let largest = constant.reduce(0) { max($0, abs(Double($1))) } / Double(yq.scale)
        guard ratio.isFinite, ratio > 0, largest.isFinite else { return nil }
        let shift = min(29 - Int(ratio.exponent), largest > 0 ? 29 - Int(largest.exponent) : 62)
        guard (1...62).contains(shift) else { return nil }
        let unit = Double(sign: .plus, exponent: shift, significand: 1)
        multiplier = Int32((ratio * unit).rounded()) * (negateCodes ? -1 : 1)
        let scale = unit / Double(yq.scale) * (negateConstant ? -1 : 1)
        addend = constant.map { Int32((Double($0) * scale).rounded()) }
        self.shift = Int32(shift)
    }
}
