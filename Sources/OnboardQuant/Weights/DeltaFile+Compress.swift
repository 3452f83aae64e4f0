import Foundation
import OnboardCore

extension DeltaFile {
    /// A float tensor the fine-tune changed: its changed rows and their delta.
    struct ChangedTensor {
        let name: String
        let shape: [Int]
        let rows: Int
        let cols: Int
        let changedRows: [Int]
        /// Δ of the changed rows only, [changedRows.count, cols].
        let delta: [Float]
    }

    /// Writes the DeltaDQ-compressed difference `finetuned - base` at `ratio` (the float values'
    /// 16-bit size over the file's size on disk). `calibration` (optional) is a safetensors file of
    /// input rows [n, cols] named as the weights they feed; the group size and value bits of each
    /// tensor are searched on its output error there (else on its weight error).
    /// `selections`: how kept values may be chosen; the search takes, per tensor, the one with the least error.
    /// `lowRank`: whether the search may give part of a tensor's budget to a low-rank part.
    public static func compress(base: String, finetuned: String, ratio: Double, out: String, calibration: String? = nil,
                                selections: [DeltaDQ.Selection] = [.magnitude, .seeded], lowRank: Bool = true,
                                progress: (String) -> Void = { _ in }) throws -> Report {
        guard ratio.isFinite, ratio >= 1 else { throw OnboardError.invalidArgument("compression ratio \(ratio) must be a number >= 1") }
        let baseFile = try SafeTensorsFile(path: base), tunedFile = try SafeTensorsFile(path: finetuned)
        try requireSameTensors(baseFile, tunedFile)
        let calibrationFile = try calibration.map { try SafeTensorsFile(path: $0) }
        var changed: [ChangedTensor] = [], carried: [(name: String, tensor: Tensor)] = [], fixed: [TensorReport] = []
        var floatValues = 0
        for entry in tunedFile.entries.sorted(by: { $0.name < $1.name }) {
            let b = try baseFile.tensor(entry.name), f = try tunedFile.tensor(entry.name)
            guard b.dtype == f.dtype else {
                throw OnboardError.format(path: finetuned, item: entry.name, reason: "dtype \(f.dtype) differs from the base's \(b.dtype)")
            }
            func report(_ kind: String) -> TensorReport {
                TensorReport(name: entry.name, shape: entry.shape, groupSize: 0, bits: 0, keepPerGroup: 0, ratio: 0,
                             changedRows: 0, kind: kind, relativeError: 0, maxAbsError: 0)
            }
            guard f.dtype.isFloat else {
                let same = memcmp(b.rawPointer, f.rawPointer, f.byteCount) == 0
                if !same { carried.append((entry.name + carriedSuffix, f)) }
                fixed.append(report(same ? "unchanged" : "carried"))
                continue
            }
            try b.requireFinite(name: entry.name, source: base)
            try f.requireFinite(name: entry.name, source: finetuned)
            floatValues += f.count
            if let tensor = changedRows(entry, base: b.floats(), tuned: f.floats()) { changed.append(tensor) } else { fixed.append(report("unchanged")) }
        }
        let fingerprint = DeltaFingerprint.of(baseFile)
        let targetBytes = Double(2 * floatValues) / ratio
        let sharing = sharedDeltas(changed)
        let changedValues = zip(changed, sharing).filter { $1 == nil }.reduce(0) { $0 + $1.0.delta.count }
        // What is not payload, first guessed (the JSON header, a few index bytes per tensor, carried bytes), then
        // searched: keep integer per group leaves budget unused, so passes move the budget until the
        // file is within 1 % under the target (bisection between a pass that fits and one that does not).
        var overhead = 1024 + Double(changed.count) * 12 + carried.reduce(0.0) { $0 + Double($1.tensor.byteCount + 160) }
        var fits: Double?, overshoots: Double?
        for pass in 0..<10 {
            let payloadBudget = 8 * (targetBytes - overhead)
            guard payloadBudget > 0 else { throw keepsNothing(finetuned, ratio) }
            let changedRatio = max(1, 16 * Double(max(changedValues, 1)) / payloadBudget)
            progress("delta: pass \(pass + 1): \(changed.count) changed tensors, \(changedValues) changed values at \(String(format: "%.2f", changedRatio))x")
            let (encodedTensors, encodedReports, payload) = try encodeAll(changed, sharing: sharing, changedRatio: changedRatio,
                                                                           calibration: calibrationFile, selections: selections,
                                                                           lowRank: lowRank, finetuned: finetuned)
            let reports = fixed + encodedReports
            // An unchanged model gives an empty delta; a budget that keeps nothing of a changed one is an error.
            guard changed.isEmpty || reports.contains(where: { $0.kind == "deltadq" }) else { throw keepsNothing(finetuned, ratio) }
            let written = carried + (try packed(encodedTensors, baseNames: baseFile.names))
            let metadata = ["format": "onboard-deltadq-v\(version)", "target_ratio": "\(ratio)", fingerprintKey: fingerprint,
                            contentKey: "\(DeltaChecksum.of(entries: written))"]
            try SafeTensorsWriter.write(written, metadata: metadata, storeAs: [packedScales: .f16], to: out)
            let size = Double(try fileSize(out))
            let report = Report(targetRatio: ratio, ratio: Double(2 * floatValues) / size, payloadBits: payload, fileBytes: Int(size),
                                changedRatio: changedRatio, tensors: reports.sorted { $0.name < $1.name })
            if size <= targetBytes {
                if targetBytes - size < 0.01 * targetBytes || changed.isEmpty || fits == overhead || changedRatio <= 1 || pass == 9 {
                    return report
                }
                fits = min(fits ?? .infinity, overhead)
            } else {
                overshoots = max(overshoots ?? -.infinity, overhead)
            }
            switch (fits, overshoots) {
            case let (fit?, over?):
                // The last word goes to the budget that fits once the two are close.
                overhead = fit - over < 0.002 * targetBytes || pass >= 8 ? fit : (fit + over) / 2
            case (nil, _):
                overhead += size - targetBytes + 64
            case (_, nil):
                overhead -= targetBytes - size
            }
        }
        throw keepsNothing(finetuned, ratio)
    }

    /// Every changed tensor encoded at its ratio, or as a copy of the earlier tensor whose delta it
    /// shares: the packed tensors, their reports and the payload bits.
    private static func encodeAll(_ changed: [ChangedTensor], sharing: [Int?], changedRatio: Double, calibration: SafeTensorsFile?,
                                  selections: [DeltaDQ.Selection], lowRank: Bool, finetuned: String) throws -> ([PackedTensor], [TensorReport], Int) {
        var packed: [PackedTensor] = [], reports: [TensorReport] = [], payload = 0
        var encodings: [Int: TensorEncoding] = [:]
        for (i, (tensor, tensorRatio)) in zip(changed, tensorRatios(changed, changedRatio: changedRatio)).enumerated() {
            if let source = sharing[i] {
                let encoding = encodings[source]
                var report = try measured(tensor, restored: encoding?.restored, encoding: encoding)
                if encoding != nil {
                    report.kind = "copy"
                    packed.append(PackedTensor(name: tensor.name, content: .copy(of: changed[source].name)))
                }
                reports.append(report)
                continue
            }
            let item = "\(finetuned): \(tensor.name)"
            guard let encoding = try encode(tensor, ratio: tensorRatio, calibration: try calibrationRows(calibration, tensor),
                                            selections: selections, lowRank: lowRank, item: item) else {
                reports.append(try measured(tensor, restored: nil, encoding: nil))
                continue
            }
            encodings[i] = encoding
            reports.append(try measured(tensor, restored: encoding.restored, encoding: encoding))
            let bitmap = rowBitmap(tensor.changedRows, rows: tensor.rows)
            payload += encoding.payloadBits + 8 * bitmap.count
            packed.append(PackedTensor(name: tensor.name, content: .stream(encoding, bitmap: bitmap)))
        }
        return (packed, reports, payload)
    }

    /// For each changed tensor, the first earlier one of the same shape with the same delta (weights
    /// a model ties), or nil. The first is never itself a copy.
    static func sharedDeltas(_ changed: [ChangedTensor]) -> [Int?] {
        changed.indices.map { i in
            changed.indices.prefix(i).first { j in
                changed[j].shape == changed[i].shape && changed[j].changedRows == changed[i].changedRows && changed[j].delta == changed[i].delta
            }
        }
    }

    private static func keepsNothing(_ finetuned: String, _ ratio: Double) -> OnboardError {
        .invalidArgument("\(finetuned): compression ratio \(ratio) keeps no delta value in any tensor (the file's headers and row scales alone reach it)")
    }

    /// The rows of a float tensor whose delta is not zero; nil when there is none.
    private static func changedRows(_ entry: SafeTensorsFile.Entry, base: [Float], tuned: [Float]) -> ChangedTensor? {
        let (rows, cols) = matrixView(entry.shape)
        var changedRows: [Int] = [], delta: [Float] = []
        for r in 0..<rows where (r * cols..<(r + 1) * cols).contains(where: { tuned[$0] != base[$0] }) {
            changedRows.append(r)
            delta += (r * cols..<(r + 1) * cols).map { tuned[$0] - base[$0] }
        }
        guard !changedRows.isEmpty else { return nil }
        return ChangedTensor(name: entry.name, shape: entry.shape, rows: rows, cols: cols, changedRows: changedRows, delta: delta)
    }

    /// Group size and bits searched on up to 64 evenly spaced rows of `delta` [count, cols], then
    /// every row encoded with them; nil when the budget cannot keep any value.
    static func encodeRows(_ delta: [Float], count: Int, cols: Int, ratio: Double, calibration: Matrix?,
                           selections: [DeltaDQ.Selection], item: String) throws -> DeltaDQ.Encoded? {
        guard let reachable = DeltaDQ.keepForRatio(ratio, rows: 1, cols: cols, groupSize: cols, bits: 2, splitBits: 1, compact: true),
              reachable.keepPerGroup > 0 else { return nil }
        let sampled = (0..<min(count, 64)).map { $0 * count / min(count, 64) }
        let sample = sampled.flatMap { delta[($0 * cols)..<(($0 + 1) * cols)] }
        let chosen = try DeltaDQ.compress(sample, rows: sampled.count, cols: cols, ratio: ratio, calibration: calibration,
                                          selections: selections, compact: true, item: item).encoded.config
        guard let config = DeltaDQ.keepForRatio(ratio, rows: count, cols: cols, groupSize: chosen.groupSize, bits: chosen.bits,
                                                splitBits: chosen.splitBits, selection: chosen.selection, compact: true),
              config.keepPerGroup > 0 else { return nil }
        return try DeltaDQ.encode(delta, rows: count, cols: cols, config: config, item: item)
    }

    /// Up to 256 calibration input rows for a tensor, when the calibration file has them with its width.
    private static func calibrationRows(_ file: SafeTensorsFile?, _ tensor: ChangedTensor) throws -> Matrix? {
        guard let file, let entry = file.entry(tensor.name), entry.shape.count == 2, entry.shape[1] == tensor.cols else { return nil }
        let values = try file.tensor(entry.name)
        guard values.dtype == .f32 else { throw OnboardError.format(path: file.path, item: entry.name, reason: "calibration rows must be float") }
        try values.requireFinite(name: entry.name, source: file.path)
        let rows = min(entry.shape[0], 256)
        return try Matrix(rows: rows, cols: tensor.cols, values: Array(values.floats().prefix(rows * tensor.cols)))
    }

    /// One bit a row (least significant first), set where the row changed.
    static func rowBitmap(_ changedRows: [Int], rows: Int) -> [UInt8] {
        var bitmap = [UInt8](repeating: 0, count: (rows + 7) / 8)
        for r in changedRows { bitmap[r / 8] |= 1 << UInt8(r % 8) }
        return bitmap
    }

    /// Relative and largest errors of the restored delta of the changed rows (the others are exact).
    private static func measured(_ tensor: ChangedTensor, restored: [Float]?, encoding: TensorEncoding?) throws -> TensorReport {
        var errorSquared = 0.0, deltaSquared = 0.0, maxAbs = 0.0
        for i in tensor.delta.indices {
            let e = Double(restored?[i] ?? 0) - Double(tensor.delta[i])
            errorSquared += e * e
            deltaSquared += Double(tensor.delta[i]) * Double(tensor.delta[i])
            maxAbs = max(maxAbs, abs(e))
        }
        let values = tensor.rows * tensor.cols, config = encoding?.residual.config
        return TensorReport(name: tensor.name, shape: tensor.shape, groupSize: config?.groupSize ?? 0, bits: config?.bits ?? 0,
                            keepPerGroup: config?.keepPerGroup ?? 0,
                            ratio: encoding.map { Double(16 * values) / Double($0.payloadBits + tensor.rows) } ?? 0,
                            changedRows: tensor.changedRows.count, kind: encoding == nil ? "dropped" : "deltadq",
                            relativeError: deltaSquared > 0 ? (errorSquared / deltaSquared).squareRoot() : 0, maxAbsError: maxAbs,
                            selection: config.map { "\($0.selection)" }, rank: encoding?.lowRank?.rank)
    }

    static func fileSize(_ path: String) throws -> Int {
        do {
            return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw OnboardError.io(path: path, reason: "cannot read its size: \(error.localizedDescription)")
        }
    }
}
