import CKernels
import OnboardCore
import OnboardQuant

/// An integer Linear with ADFQ-ViT's per-patch inputs, per-token dynamic inputs, CFWS weights
/// and/or grouped weights, which the shared GEMM epilogue cannot express: the packed product
/// writes int32 sums (one product per weight group), and a row pass applies each row's own scale
/// and zero point, adds the coarse weights' sparse product and the outliers' float product, then
/// quantizes (or writes f32).
///
/// y[i, j] = s_i (Σ_g w_jg (Σ_{k in g} a_ik B_kj - z_i Σ_{k in g} B_kj) + c_j Σ_{k in S_j} (a_ik - z_i) C_kj)
///           + Σ_{outliers (i, k)} x_ik (w_j,g(k) B_kj + c_j C_kj) + bias_j
/// with B the fine codes (scales w_jg, one group of all K inputs unless grouped), C the coarse codes
/// (scales c_j, non-zero on S_j), s_i and z_i the input row's scale and zero point (its token
/// position's, its own at run time, or the tensor's).
final class LowBitLinear {
    /// CFWS's coarse part, by output column: the depths k and codes C_kj of column j's non-zeros.
    struct Coarse {
        var columnStart: [Int32]
        var depths: [UInt16]
        var codes: [Int8]
        var scales: [Float]

        var byteCount: Int { columnStart.count * 4 + depths.count * 2 + codes.count + scales.count * 4 }

        /// C_kj, or 0 (a search through column j's few non-zeros).
        func code(depth: Int, column j: Int) -> Int8 {
            for e in Int(columnStart[j])..<Int(columnStart[j + 1]) where Int(depths[e]) == depth { return codes[e] }
            return 0
        }
    }

    enum Input {
        /// u8 codes with one scale and zero point.
        case codes(ActivationQuant)
        /// f32 values, quantized per token position with outliers kept (`PerTokenQuant`).
        case perToken(PerTokenQuant)
        /// Shift-Log2 codes, read through `table` as u8 on the grid `scale` with offset `offset`.
        case logCodes(table: [UInt8], scale: Float, offset: Float)
        /// f32 values, each row quantized at run time over its own min and max (asymmetric, `bits`).
        case dynamicPerToken(bits: Int)

        /// Whether the Linear reads its input in f32.
        var readsFloat: Bool {
            switch self {
            case .perToken, .dynamicPerToken: return true
            case .codes, .logCodes: return false
            }
        }
    }

    let k: Int
    let n: Int
    /// Inputs per weight group (K when not grouped).
    let groupSize: Int
    var groups: Int { k / groupSize }
    /// One packed product per group.
    private let fine: [PackedWeights]
    /// w_jg at g·N + j (the caller's are in row order, j·groups + g).
    private let fineScales: [Float]
    /// Σ_{k in g} B_kj at g·N + j.
    private let columnSums: [Int32]
    /// The bias, plus for Shift-Log2 inputs their offset times each whole quantized weight column.
    private let bias: [Float]
    private let coarse: Coarse?
    let input: Input
    /// nil: f32 output.
    let output: ActivationQuant?

    /// Packed codes, the per-column scales, biases and code sums, and the coarse part.
    var byteCount: Int { fine.reduce(0) { $0 + $1.byteCount } + n * 4 + n * groups * 8 + (coarse?.byteCount ?? 0) }

    /// Bytes of work area for `m` rows: the input's codes, the int32 sums, and with several weight
    /// groups the f32 sums over groups.
    static func workBytes(m: Int, n: Int, k: Int, groups: Int = 1) -> Int {
        MemoryPlanner.align(m * k) + MemoryPlanner.align(m * n * 4) + (groups > 1 ? m * n * 4 : 0)
    }

    /// `fineScales`: one, one per output, or one per output and group (`groupSize` must divide K).
    init(fineCodes: UnsafePointer<Int8>, fineScales: [Float], weightBits: Int, coarse: Coarse?, n: Int, k: Int, groupSize: Int,
         bias: UnsafePointer<Float>?, input: Input, output: ActivationQuant?) {
        self.k = k
        self.n = n
        self.groupSize = groupSize
        let groups = k / groupSize
        fine = (0..<groups).map { g in
            PackedWeights(codes: fineCodes + g * groupSize, n: n, k: groupSize, rowStride: k, bits: weightBits)
        }
        let columnSums = fine.flatMap(\.columnSums)
        self.columnSums = columnSums
        let fineScales = fineScales.count == 1 ? [Float](repeating: fineScales[0], count: n * groups)
            : (0..<(n * groups)).map { fineScales[($0 % n) * groups + $0 / n] }
        self.fineScales = fineScales
        var bias = bias.map { Array(UnsafeBufferPointer(start: $0, count: n)) } ?? [Float](repeating: 0, count: n)
        if case let .logCodes(_, _, offset) = input {
            var coarseSums = [Float](repeating: 0, count: n)
            if let coarse {
                for j in 0..<n { coarseSums[j] = coarse.codes[Int(coarse.columnStart[j])..<Int(coarse.columnStart[j + 1])].reduce(0) { $0 + Float($1) } }
            }
            for j in 0..<n {
                let fineSum = (0..<groups).reduce(Float(0)) { $0 + fineScales[$1 * n + j] * Float(columnSums[$1 * n + j]) }
                bias[j] += offset * (fineSum + (coarse?.scales[j] ?? 0) * coarseSums[j])
            }
        }
        self.bias = bias
        self.coarse = coarse
        self.input = input
        self.output = output
    }

    /// Input values kept in float as outliers, and values quantized per token, over every run so far.
    private(set) var outlierCount = 0
    private(set) var perTokenCount = 0

    /// out[M, N] (u8 codes, or f32 when `output` is nil) from `x` [M, K] (u8 codes or f32 per `input`).
    func run(_ x: UnsafeRawPointer, m: Int, into out: UnsafeMutableRawPointer, work: UnsafeMutableRawPointer, threads: Int) {
        let codes = work.assumingMemoryBound(to: UInt8.self)
        let sums = (work + MemoryPlanner.align(m * k)).assumingMemoryBound(to: Int32.self)
        let groupTotals = groups > 1 ? (work + MemoryPlanner.align(m * k) + MemoryPlanner.align(m * n * 4)).assumingMemoryBound(to: Float.self) : nil
        var outliers = [[(depth: Int32, value: Float)]](repeating: [], count: m)
        var dynamicRows: [QuantParams] = []
        switch input {
        case .codes:
            codes.update(from: x.assumingMemoryBound(to: UInt8.self), count: m * k)
        case let .logCodes(table, _, _):
            QuantizedElementwise.lookup(x.assumingMemoryBound(to: UInt8.self), codes, count: m * k, table: table, threads: threads)
        case let .perToken(params):
            quantizeRows(x.assumingMemoryBound(to: Float.self), m: m, params: params, into: codes, outliers: &outliers, threads: threads)
        case let .dynamicPerToken(bits):
            dynamicRows = quantizeRows(x.assumingMemoryBound(to: Float.self), m: m, bits: bits, into: codes, threads: threads)
        }
        let rows = dynamicRows.isEmpty ? (0..<m).map(rowParameters) : dynamicRows.map { (scale: $0.scale, zero: $0.zeroPoint) }
        let rowScales = rows.map(\.scale), rowZeros = rows.map(\.zero)
        for (g, packed) in fine.enumerated() {
            var e = onboard_q8_epilogue()
            e.out_type = ONBOARD_Q8_OUT_S32
            e.b_fits_7_bits = packed.fitsSevenBits ? 1 : 0
            let panels = packed.panels
            Parallel.forRanges(count: (panels + 1) / 2, threads: threads) { pairs in
                packed.gemm(m: m, a: codes + g * self.groupSize, lda: self.k, epilogue: &e, out: UnsafeMutableRawPointer(sums), ldc: self.n,
                            panels: (pairs.lowerBound * 2)..<min(pairs.upperBound * 2, panels))
            }
            if let groupTotals { accumulate(group: g, sums: sums, m: m, rowScales: rowScales, rowZeros: rowZeros, into: groupTotals, threads: threads) }
        }
        let depths = Array(Set(outliers.joined().map { Int($0.depth) })).sorted()
        if case .perToken = input {
            outlierCount += outliers.reduce(0) { $0 + $1.count }
            perTokenCount += m * k
        }
        var depthRows = [Int32](repeating: 0, count: depths.count * n)
        var oneHot = [UInt8](repeating: 0, count: depths.count * groupSize)
        depthRows.withUnsafeMutableBufferPointer { rows in
            oneHot.withUnsafeMutableBufferPointer { scratch in
                guard let rows = rows.baseAddress, let scratch = scratch.baseAddress else { return }  // no outliers
                var first = 0
                for (g, packed) in fine.enumerated() {
                    let local = depths[first...].prefix { $0 < (g + 1) * groupSize }.map { $0 - g * groupSize }
                    packed.depthRows(local, into: rows + first * n, scratch: scratch)
                    first += local.count
                }
            }
        }
        var rowOfDepth = [Int](repeating: -1, count: k)
        for (row, depth) in depths.enumerated() { rowOfDepth[depth] = row }
        fineScales.withUnsafeBufferPointer { scales in
            bias.withUnsafeBufferPointer { bias in
                self.columnSums.withUnsafeBufferPointer { columnSums in
                    depthRows.withUnsafeBufferPointer { depthRows in
                        let parts = RowParts(scales: scales, bias: bias, columnSums: columnSums, depthRows: depthRows, rowOfDepth: rowOfDepth)
                        Parallel.forRanges(count: m, threads: threads) { rows in
                            let y = UnsafeMutablePointer<Float>.allocate(capacity: self.n)
                            defer { y.deallocate() }
                            for i in rows {
                                self.combine(row: i, scale: rowScales[i], zero: rowZeros[i], codes: codes + i * self.k, sums: sums + i * self.n,
                                             groupTotals: groupTotals.map { $0 + i * self.n }, outliers: outliers[i], parts: parts, into: y)
                                self.store(y, row: i, into: out)
                            }
                        }
                    }
                }
            }
        }
    }

    /// What every row's pass reads, as pointers into arrays the run keeps alive.
    private struct RowParts {
        let scales: UnsafeBufferPointer<Float>
        let bias: UnsafeBufferPointer<Float>
        let columnSums: UnsafeBufferPointer<Int32>
        /// Weight rows B[k, :] of the depths with outliers, and each depth's row there (-1: none).
        let depthRows: UnsafeBufferPointer<Int32>
        let rowOfDepth: [Int]
    }

    private func rowParameters(_ row: Int) -> (scale: Float, zero: Int32) {
        switch input {
        case let .codes(q): return (q.scale, q.zeroPoint)
        case let .perToken(p): return (p.scales[row % p.positions], p.zeroPoints[row % p.positions])
        case let .logCodes(_, scale, _): return (scale, 0)
        case .dynamicPerToken: return (1, 0)  // replaced by each run's own
        }
    }

    /// Each row through the u8 quantizer at parameters over its own min and max; returns them.
    private func quantizeRows(_ x: UnsafePointer<Float>, m: Int, bits: Int, into codes: UnsafeMutablePointer<UInt8>,
                              threads: Int) -> [QuantParams] {
        let k = self.k
        var params = [QuantParams](repeating: QuantParams.affine(min: 0, max: 0, bits: bits, symmetric: false), count: m)
        params.withUnsafeMutableBufferPointer { found in
            let found = found
            Parallel.forRanges(count: m, threads: threads) { rows in
                for i in rows {
                    let row = x + i * k
                    var low = Float.infinity, high = -Float.infinity
                    for c in 0..<k {
                        low = min(low, row[c])
                        high = max(high, row[c])
                    }
                    let p = QuantParams.affine(min: low, max: high, bits: bits, symmetric: false)
                    onboard_q8_quantize_u8(row, codes + i * k, k, p.scale, p.zeroPoint, 0, p.qmax)
                    found[i] = p
                }
            }
        }
        return params
    }

    /// Each row through the u8 quantizer at its position's parameters; then the outliers (|x| above
    /// the threshold) are listed and their codes set to the zero point, so they add nothing there.
    private func quantizeRows(_ x: UnsafePointer<Float>, m: Int, params: PerTokenQuant, into codes: UnsafeMutablePointer<UInt8>,
                              outliers: inout [[(depth: Int32, value: Float)]], threads: Int) {
        let k = self.k
        outliers.withUnsafeMutableBufferPointer { found in
            let found = found
            Parallel.forRanges(count: m, threads: threads) { rows in
                for i in rows {
                    let position = i % params.positions
                    let row = x + i * k, rowCodes = codes + i * k
                    onboard_q8_quantize_u8(row, rowCodes, k, params.scales[position], params.zeroPoints[position], 0, params.qmax)
                    for c in 0..<k where abs(row[c]) > params.threshold {
                        found[i].append((Int32(c), row[c]))
                        rowCodes[c] = UInt8(params.zeroPoints[position])
                    }
                }
            }
        }
    }

    /// Adds group g's scaled sums to every row's f32 totals (the first group sets them).
    private func accumulate(group g: Int, sums: UnsafePointer<Int32>, m: Int, rowScales: [Float], rowZeros: [Int32],
                            into totals: UnsafeMutablePointer<Float>, threads: Int) {
        let n = self.n
        fineScales.withUnsafeBufferPointer { scales in
            columnSums.withUnsafeBufferPointer { columnSums in
                guard let scales = scales.baseAddress.map({ $0 + g * n }), let columnSums = columnSums.baseAddress.map({ $0 + g * n }) else { return }
                Parallel.forRanges(count: m, threads: threads) { rows in
                    for i in rows {
                        let (scale, zero) = (rowScales[i], rowZeros[i])
                        let row = sums + i * n, total = totals + i * n
                        if g == 0 {
                            for j in 0..<n { total[j] = scale * scales[j] * Float(row[j] &- zero &* columnSums[j]) }
                        } else {
                            for j in 0..<n { total[j] += scale * scales[j] * Float(row[j] &- zero &* columnSums[j]) }
                        }
                    }
                }
            }
        }
    }

    private func combine(row i: Int, scale: Float, zero: Int32, codes: UnsafePointer<UInt8>, sums: UnsafePointer<Int32>,
                         groupTotals: UnsafePointer<Float>?, outliers: [(depth: Int32, value: Float)], parts: RowParts,
                         into y: UnsafeMutablePointer<Float>) {
        let n = self.n
        if let groupTotals {
            for j in 0..<n { y[j] = groupTotals[j] + parts.bias[j] }
        } else {
            for j in 0..<n {
                let fineSum = sums[j] &- zero &* parts.columnSums[j]
                y[j] = scale * parts.scales[j] * Float(fineSum) + parts.bias[j]
            }
        }
        if let coarse {
            coarse.columnStart.withUnsafeBufferPointer { start in
                coarse.depths.withUnsafeBufferPointer { depths in
                    coarse.codes.withUnsafeBufferPointer { values in
                        coarse.scales.withUnsafeBufferPointer { scales in
                            for j in 0..<n {
                                var sum: Int32 = 0
                                for e in Int(start[j])..<Int(start[j + 1]) { sum &+= (Int32(codes[Int(depths[e])]) - zero) &* Int32(values[e]) }
                                y[j] += scale * scales[j] * Float(sum)
                            }
                        }
                    }
                }
            }
        }
        for (depth, value) in outliers {
            let r = parts.rowOfDepth[Int(depth)]
            guard r >= 0 else { continue }
            let g = Int(depth) / groupSize
            for j in 0..<n { y[j] += value * parts.scales[g * n + j] * Float(parts.depthRows[r * n + j]) }
            if let coarse {
                for j in 0..<n { y[j] += value * coarse.scales[j] * Float(coarse.code(depth: Int(depth), column: j)) }
            }
        }
    }

    private func store(_ y: UnsafeMutablePointer<Float>, row i: Int, into out: UnsafeMutableRawPointer) {
        if let output {
            onboard_q8_quantize_u8(y, out.assumingMemoryBound(to: UInt8.self) + i * n, n, output.scale, output.zeroPoint, output.qmin, output.qmax)
        } else {
            (out.assumingMemoryBound(to: Float.self) + i * n).update(from: y, count: n)
        }
    }
}
