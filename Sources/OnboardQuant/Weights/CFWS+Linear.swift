import OnboardCore

extension CFWS {
    /// A Linear weight split into a dense fine part at low bits and a sparse coarse part at 8 bits.
    public struct SparseSplit: Sendable {
        /// Fine codes [N, K], symmetric at the requested bits, one scale per output channel.
        public var fineCodes: [Int8]
        public var fineScales: [Float]
        /// Coarse codes (8-bit, symmetric per output channel) at (row, column) of the weight.
        public var coarse: [(row: Int, column: Int, code: Int8)]
        public var coarseScales: [Float]

        /// The weight the two parts stand for.
        public func reconstructed(rows: Int, columns: Int) -> [Float] {
            var w = (0..<(rows * columns)).map { fineScales[$0 / columns] * Float(fineCodes[$0]) }
            for entry in coarse { w[entry.row * columns + entry.column] += coarseScales[entry.row] * Float(entry.code) }
            return w
        }
    }

    /// CFWS for a Linear weight [N, K] (no centre tap to split off): per output channel the
    /// `fraction` of weights largest in magnitude form the coarse part, quantized at 8 bits over that
    /// channel's range; the fine part (the other weights, plus the coarse part's rounding residual)
    /// then spans a far narrower range and is quantized at `bits` (over its max, or the MSE-optimal
    /// clip). The coarse part is sparse, so 4-bit weights keep about half the bytes of 8-bit ones.
    public static func splitLinear(_ weight: [Float], rows: Int, columns: Int, bits: Int, fraction: Double,
                                   mseClip: Bool, item: String = "linear") throws -> SparseSplit {
        guard (2...8).contains(bits) else { throw OnboardError.invalidArgument("\(item): CFWS bits must be in 2...8, got \(bits)") }
        guard rows > 0, columns > 0, weight.count == rows * columns else {
            throw OnboardError.shape(item: item, reason: "CFWS needs a weight [N, K], got \(weight.count) values for \(rows) x \(columns)")
        }
        guard fraction > 0, fraction < 1 else { throw OnboardError.invalidArgument("\(item): CFWS fraction must be in (0, 1), got \(fraction)") }
        if let bad = weight.firstNonFiniteIndex { throw OnboardError.shape(item: item, reason: "weight element \(bad) is \(weight[bad])") }
        let perRow = max(1, Int((fraction * Double(columns)).rounded()))
        var split = SparseSplit(fineCodes: [Int8](repeating: 0, count: weight.count), fineScales: [], coarse: [], coarseScales: [])
        for row in 0..<rows {
            var values = Array(weight[(row * columns)..<((row + 1) * columns)])
            let largest = values.indices.sorted { abs(values[$0]) > abs(values[$1]) }.prefix(perRow).sorted()
            let amax = largest.map { abs(values[$0]) }.max() ?? 0
            let coarseScale = amax > 0 ? amax / 127 : 1
            split.coarseScales.append(coarseScale)
            for column in largest {
                let code = Int8(max(-127, min(127, (values[column] / coarseScale).rounded(.toNearestOrEven))))
                guard code != 0 else { continue }
                split.coarse.append((row, column, code))
                values[column] -= Float(code) * coarseScale
            }
            let fineMax = values.withUnsafeBufferPointer { mseClip ? SymmetricClipSearch.mseClip($0, bits: bits) : $0.reduce(0) { max($0, abs($1)) } }
            let params = QuantParams.affine(min: -fineMax, max: fineMax, bits: bits, symmetric: true)
            split.fineScales.append(params.scale)
            for column in 0..<columns { split.fineCodes[row * columns + column] = Int8(params.quantize(values[column])) }
        }
        return split
    }
}
