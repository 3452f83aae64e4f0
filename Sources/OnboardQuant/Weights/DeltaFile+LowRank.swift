extension DeltaFile {
    /// A changed tensor's encoding: DeltaDQ codes of its delta, or a low-rank part (`LowRankDelta`)
    /// and DeltaDQ codes of what the low-rank part leaves (the residual).
    struct TensorEncoding {
        let residual: DeltaDQ.Encoded
        let lowRank: LowRankDelta.Encoded?
        /// The restored delta of the changed rows.
        let restored: [Float]

        var payloadBits: Int {
            residual.payloadBits + (lowRank?.storedBits ?? 0)
        }
    }

    /// Shares of a tensor's budget the search gives a low-rank part (0: DeltaDQ alone), for tensors
    /// of at least 16 changed rows and columns. On the detector's 16x delta this moved the median
    /// relative weight error from 0.70 to 0.37 (docs/deltas.md).
    static let lowRankShares: [Double] = [0, 0.4, 0.6]
    static let lowRankBits = 4

    /// The encoding with the least output error on the calibration rows (weight error without)
    /// among DeltaDQ alone and low-rank + DeltaDQ residual at each share, all at `ratio`; nil when
    /// the budget keeps nothing.
    static func encode(_ tensor: ChangedTensor, ratio: Double, calibration: Matrix?, selections: [DeltaDQ.Selection],
                       lowRank allowLowRank: Bool, item: String) throws -> TensorEncoding? {
        let count = tensor.changedRows.count, cols = tensor.cols
        let budgetBits = Double(16 * count * cols) / ratio
        var best: (encoding: TensorEncoding, error: Double)?
        for share in allowLowRank && min(count, cols) >= 16 ? lowRankShares : [0] {
            var lowRank: LowRankDelta.Encoded?, lowRankRestored: [Float]?
            var residual = tensor.delta, residualBudget = budgetBits
            if share > 0 {
                let rank = LowRankDelta.rank(forBudget: share * budgetBits, rows: count, cols: cols, bits: lowRankBits)
                guard rank > 0 else { continue }
                let part = try LowRankDelta.encode(tensor.delta, rows: count, cols: cols, rank: rank, bits: lowRankBits, item: item)
                let restored = try LowRankDelta.decode(part, item: item)
                for i in residual.indices { residual[i] -= restored[i] }
                residualBudget -= Double(part.storedBits)
                (lowRank, lowRankRestored) = (part, restored)
            }
            guard residualBudget > 0,
                  let codes = try encodeRows(residual, count: count, cols: cols, ratio: Double(16 * count * cols) / residualBudget,
                                             calibration: calibration, selections: selections, item: item) else { continue }
            var restored = try DeltaDQ.decode(codes, item: item)
            if let lowRankRestored { for i in restored.indices { restored[i] += lowRankRestored[i] } }
            let error = try DeltaDQ.reconstructionError(tensor.delta, restored, rows: count, cols: cols, calibration: calibration)
            if error < (best?.error ?? .infinity) {
                best = (TensorEncoding(residual: codes, lowRank: lowRank, restored: restored), error)
            }
        }
        return best?.encoding
    }
}
