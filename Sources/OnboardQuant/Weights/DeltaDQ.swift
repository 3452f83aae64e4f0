import OnboardCore

/// DeltaDQ: compression of a fine-tuning delta `ΔW = W_ft - W_base` by group-wise dropout and
/// separate quantization, with exact bit accounting.
///
/// The paper's code is not public; our reading and choices:
/// - Group-wise dropout: each row is cut into groups of `groupSize`; every group keeps the same number of
///   values (`keepPerGroup`), so sparsity is balanced across groups. Which values: `.magnitude` keeps the
///   largest |Δ| (our default: with 87%+ dropped, DARE-style random dropping rescaled by 1/(1-p) multiplies
///   the error energy by p/(1-p) ≈ 7, which no quantizer recovers), `.random` is the DARE variant (seeded,
///   kept values rescaled by group/keep), and `.seeded` is that variant with positions the decoder draws
///   again from the row and group (`seededPositions`), so the file stores codes only: no positions, no parts.
/// - The group size (and the value bits) are searched on calibration inputs X by the output error
///   ||X (Δ̂ - Δ)^T||; without X the weight error, i.e. the output error for white inputs.
/// - Separate quantization: kept values get symmetric `bits`-bit codes with one f16 scale per row; the
///   codes are split by their top `splitBits` bits into 2^s parts, each part storing only the low
///   `bits - s` bits (its high bits are implied by the part), so each part is a low-bit sparse matrix and
///   `X Δ^T = Σ_parts X part^T`.
/// - Accounting, per group: for s > 0 a count per part except the last (bitsFor(keep + 1) bits each); per kept
///   value its position in the group (bitsFor(group)) and its `bits - s` code bits; per row a 16-bit scale.
///   A `.seeded` group costs its kept values' `bits`-bit codes only.
///   `ratio` compares that payload with the delta stored as 16-bit floats.
public enum DeltaDQ {
    public enum Selection: Int, Codable, Sendable { case magnitude = 0, random = 1, seeded = 2 }

    public struct Config: Codable, Equatable, Sendable {
        public var groupSize: Int
        public var bits: Int
        public var splitBits: Int
        public var keepPerGroup: Int
        public var selection: Selection
        /// Compact positions (delta files from version 3): a group whose kept values cost fewer bits
        /// as a bitmap of the group (none when every value is kept) followed by full codes in
        /// position order is written so, instead of positions per part; and `bits` may be 1 (the
        /// sign, times the row's mean |kept value|).
        public var compact: Bool

        public init(groupSize: Int, bits: Int, splitBits: Int = 1, keepPerGroup: Int, selection: Selection = .magnitude,
                    compact: Bool = false) {
            self.groupSize = groupSize
            self.bits = bits
            self.splitBits = splitBits
            self.keepPerGroup = keepPerGroup
            self.selection = selection
            self.compact = compact
        }

        func validate(cols: Int) throws {
            guard groupSize >= 1, ((compact && selection != .seeded ? 1 : 2)...8).contains(bits), splitBits >= 0, splitBits < bits,
                  selection != .seeded || splitBits == 0, keepPerGroup >= 0,
                  keepPerGroup <= groupSize, cols >= 1 else {
                throw OnboardError.invalidArgument("invalid DeltaDQ configuration \(self) for rows of \(cols)")
            }
        }

        /// Whether a group of `length` keeping `keep` is written as a bitmap and codes in order.
        func bitmapGroup(length: Int, keep: Int) -> Bool {
            selection != .seeded && compact && (bits == 1 || (keep == length ? 0 : length) + keep * bits < partsBits(length: length, keep: keep))
        }

        private func partsBits(length: Int, keep: Int) -> Int {
            ((1 << splitBits) - 1) * (splitBits > 0 ? bitsFor(keep + 1) : 0) + keep * (bitsFor(length) + bits - splitBits)
        }

        /// Exact payload bits of a [rows, cols] delta.
        public func payloadBits(rows: Int, cols: Int) -> Int {
            var perRow = 16
            for start in stride(from: 0, to: cols, by: groupSize) {
                let length = min(groupSize, cols - start), keep = min(keepPerGroup, length)
                if selection == .seeded {
                    perRow += keep * bits
                    continue
                }
                perRow += bitmapGroup(length: length, keep: keep) ? (keep == length ? 0 : length) + keep * bits
                    : partsBits(length: length, keep: keep)
            }
            return rows * perRow
        }
    }

    public struct Encoded: Sendable {
        public let config: Config
        public let rows: Int
        public let cols: Int
        /// Per-row scales (already rounded to f16).
        public let scales: [Float]
        public let stream: [UInt8]
        public let streamBits: Int

        public init(config: Config, rows: Int, cols: Int, scales: [Float], stream: [UInt8], streamBits: Int) {
            self.config = config
            self.rows = rows
            self.cols = cols
            self.scales = scales
            self.stream = stream
            self.streamBits = streamBits
        }

        public var payloadBits: Int { streamBits + 16 * rows }
        /// Compression ratio against a 16-bit float delta.
        public var ratio: Double { Double(16 * rows * cols) / Double(max(payloadBits, 1)) }
    }

    /// Compresses one delta [rows, cols] (row-major).
    public static func encode(_ delta: [Float], rows: Int, cols: Int, config: Config, seed: UInt64 = 0,
                              item: String = "delta") throws -> Encoded {
        try config.validate(cols: cols)
        guard delta.count == rows * cols else { throw OnboardError.shape(item: item, reason: "\(delta.count) values do not fill [\(rows), \(cols)]") }
        let qmax = (1 << (config.bits - 1)) - 1, lowBits = config.bits - config.splitBits
        var generator = SplitMix64(seed: seed)
        var writer = BitWriter()
        var scales = [Float]()
        for r in 0..<rows {
            let row = delta[(r * cols)..<((r + 1) * cols)]
            var kept: [[(position: Int, value: Float)]] = []
            for start in stride(from: 0, to: cols, by: config.groupSize) {
                let length = min(config.groupSize, cols - start), keep = min(config.keepPerGroup, length)
                var order = Array(0..<length)
                switch config.selection {
                case .magnitude:
                    order.sort { abs(row[row.startIndex + start + $0]) > abs(row[row.startIndex + start + $1]) }
                case .random:
                    order.shuffle(using: &generator)
                case .seeded:
                    order = seededPositions(row: r, start: start, length: length, keep: keep)
                }
                let rescale: Float = config.selection != .magnitude && keep > 0 ? Float(length) / Float(keep) : 1
                kept.append(order.prefix(keep).sorted().map { ($0, row[row.startIndex + start + $0] * rescale) })
            }
            let magnitudes = kept.joined().map { abs($0.value) }
            // 1-bit codes are signs: the scale that minimises their error is the mean magnitude.
            let amax = config.bits == 1 ? magnitudes.reduce(0, +) / Float(max(magnitudes.count, 1)) : magnitudes.max() ?? 0
            let grid = HalfFloat.f16ToFloat(HalfFloat.floatToF16(amax / Float(max(qmax, 1))))
            let scale = config.selection == .seeded ? clippedScale(magnitudes, grid: grid, qmax: qmax) : grid
            guard scale.isFinite else {
                throw OnboardError.shape(item: item, reason: "row \(r): delta values up to \(amax) exceed what f16 row scales can hold")
            }
            scales.append(try unbiasedScale(row: row, kept: kept.joined(), grid: scale, config: config, item: item, index: r))
            for (g, group) in kept.enumerated() {
                let length = min(config.groupSize, cols - g * config.groupSize)
                if config.selection == .seeded {
                    writeCodes(group, scale: scale, bits: config.bits, to: &writer)
                    continue
                }
                if config.bitmapGroup(length: length, keep: group.count) {
                    writeBitmapGroup(group, length: length, scale: scale, config: config, to: &writer)
                    continue
                }
                // Offset codes u = q + qmax in [0, 2 qmax]; the part is u's top splitBits bits.
                let coded = group.map { entry -> (position: Int, code: Int) in
                    let q = scale > 0 ? Int((entry.value / scale).rounded(.toNearestOrEven)) : 0
                    return (entry.position, min(max(q, -qmax), qmax) + qmax)
                }
                let parts = (0..<(1 << config.splitBits)).map { p in coded.filter { $0.code >> lowBits == p } }
                if config.splitBits > 0 {
                    for part in parts.dropLast() { writer.write(UInt32(part.count), bits: bitsFor(group.count + 1)) }
                }
                for part in parts {
                    for entry in part {
                        writer.write(UInt32(entry.position), bits: bitsFor(length))
                        writer.write(UInt32(entry.code & ((1 << lowBits) - 1)), bits: lowBits)
                    }
                }
            }
        }
        return Encoded(config: config, rows: rows, cols: cols, scales: scales, stream: writer.bytes, streamBits: writer.bitCount)
    }

    /// The scale a row's codes are decoded with. Compact magnitude encodings rescale the codes (made on
    /// the `grid` scale) so that the restored row's projection on the true one is the whole row:
    /// dropping the small values and rounding would otherwise shrink the delta toward zero and the
    /// variant toward its base (the magnitude analogue of DARE's 1/(1 - p) rescale; on the MiniLM
    /// fine-tune it is what keeps the embeddings on the variant, at a slightly larger weight error).
    private static func unbiasedScale<S: Sequence>(row: ArraySlice<Float>, kept: S, grid: Float, config: Config, item: String,
                                                   index: Int) throws -> Float where S.Element == (position: Int, value: Float) {
        guard config.compact, config.selection == .magnitude, grid > 0 else { return grid }
        let qmax = (1 << (config.bits - 1)) - 1
        var projection = 0.0
        for entry in kept {
            let code = config.bits == 1 ? (entry.value >= 0 ? 1 : -1)
                : min(max(Int((entry.value / grid).rounded(.toNearestOrEven)), -qmax), qmax)
            projection += Double(code) * Double(entry.value)
        }
        let energy = row.reduce(0.0) { $0 + Double($1) * Double($1) }
        guard projection > 0 else { return grid }
        let scale = HalfFloat.f16ToFloat(HalfFloat.floatToF16(Float(energy / projection)))
        guard scale.isFinite else {
            throw OnboardError.shape(item: item, reason: "row \(index): a rescaled delta exceeds what f16 row scales can hold")
        }
        return scale
    }

    /// The f16 row scale among `grid` x {1, 0.95, ..., 0.6} with the least squared rounding error
    /// of the row's kept values (clipping the few largest buys finer steps for the rest; the
    /// kept values of a seeded row are dense, so the grid is worth fitting to them).
    static func clippedScale(_ magnitudes: [Float], grid: Float, qmax: Int) -> Float {
        guard grid > 0, qmax >= 1 else { return grid }
        var best = (scale: grid, error: Float.infinity)
        for factor in stride(from: Float(1), through: 0.6, by: -0.05) {
            let scale = HalfFloat.f16ToFloat(HalfFloat.floatToF16(grid * factor))
            guard scale > 0 else { continue }
            var error: Float = 0
            for m in magnitudes {
                let q = min((m / scale).rounded(.toNearestOrEven), Float(qmax)) * scale
                error += (q - m) * (q - m)
            }
            if error < best.error { best = (scale, error) }
        }
        return best.scale
    }

    /// The positions a `.seeded` group keeps: `keep` of `length` (sorted), drawn by a partial
    /// Fisher-Yates shuffle from a generator seeded by the row and the group's first column, so that
    /// the decoder draws the same ones and the file stores none.
    public static func seededPositions(row: Int, start: Int, length: Int, keep: Int) -> [Int] {
        var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: row) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: start) &* 0xBF58_476D_1CE4_E5B9)
        var order = Array(0..<length)
        for i in 0..<min(keep, length) {
            order.swapAt(i, i + Int(generator.next() % UInt64(length - i)))
        }
        return order.prefix(keep).sorted()
    }

    /// Symmetric `bits`-bit codes of a group's kept values in position order, offset by qmax.
    private static func writeCodes(_ group: [(position: Int, value: Float)], scale: Float, bits: Int, to writer: inout BitWriter) {
        let qmax = (1 << (bits - 1)) - 1
        for entry in group {
            let q = scale > 0 ? Int((entry.value / scale).rounded(.toNearestOrEven)) : 0
            writer.write(UInt32(min(max(q, -qmax), qmax) + qmax), bits: bits)
        }
    }

    /// A group as a bitmap of its kept positions (none when all are kept) and their codes in order.
    private static func writeBitmapGroup(_ group: [(position: Int, value: Float)], length: Int, scale: Float, config: Config,
                                         to writer: inout BitWriter) {
        if group.count < length {
            var mask = [Bool](repeating: false, count: length)
            for entry in group { mask[entry.position] = true }
            for bit in mask { writer.write(bit ? 1 : 0, bits: 1) }
        }
        let qmax = (1 << (config.bits - 1)) - 1
        for entry in group {
            if config.bits == 1 {
                writer.write(entry.value >= 0 ? 1 : 0, bits: 1)
            } else {
                let q = scale > 0 ? Int((entry.value / scale).rounded(.toNearestOrEven)) : 0
                writer.write(UInt32(min(max(q, -qmax), qmax) + qmax), bits: config.bits)
            }
        }
    }

    private static func readBitmapGroup(length: Int, keep: Int, scale: Float, config: Config, from reader: inout BitReader,
                                        into out: inout [Float], at offset: Int) throws {
        var positions = Array(0..<length)
        if keep < length {
            positions = []
            for p in 0..<length {
                guard let bit = reader.read(bits: 1) else { throw OnboardError.shape(item: "delta", reason: "compressed stream is truncated or corrupt") }
                if bit == 1 { positions.append(p) }
            }
        }
        let qmax = (1 << (config.bits - 1)) - 1
        for p in positions {
            guard let code = reader.read(bits: config.bits) else { throw OnboardError.shape(item: "delta", reason: "compressed stream is truncated or corrupt") }
            out[offset + p] = config.bits == 1 ? (code == 1 ? scale : -scale) : scale * Float(Int(code) - qmax)
        }
    }

    /// Rebuilds the dense delta; throws on a truncated or inconsistent stream.
    public static func decode(_ encoded: Encoded, item: String = "delta") throws -> [Float] {
        let config = encoded.config, cols = encoded.cols
        try config.validate(cols: cols)
        guard encoded.scales.count == encoded.rows else {
            throw OnboardError.shape(item: item, reason: "\(encoded.scales.count) scales for \(encoded.rows) rows")
        }
        let qmax = (1 << (config.bits - 1)) - 1, lowBits = config.bits - config.splitBits
        var reader = BitReader(bytes: encoded.stream)
        var out = [Float](repeating: 0, count: encoded.rows * cols)
        func corrupt() -> OnboardError { .shape(item: item, reason: "compressed stream is truncated or corrupt") }
        for r in 0..<encoded.rows {
            for start in stride(from: 0, to: cols, by: config.groupSize) {
                let length = min(config.groupSize, cols - start), keep = min(config.keepPerGroup, length)
                if config.selection == .seeded {
                    for position in seededPositions(row: r, start: start, length: length, keep: keep) {
                        guard let code = reader.read(bits: config.bits) else { throw corrupt() }
                        out[r * cols + start + position] = encoded.scales[r] * Float(Int(code) - qmax)
                    }
                    continue
                }
                if config.bitmapGroup(length: length, keep: keep) {
                    do {
                        try readBitmapGroup(length: length, keep: keep, scale: encoded.scales[r], config: config, from: &reader,
                                            into: &out, at: r * cols + start)
                    } catch { throw corrupt() }
                    continue
                }
                var counts = [Int]()
                if config.splitBits > 0 {
                    for _ in 0..<((1 << config.splitBits) - 1) {
                        guard let c = reader.read(bits: bitsFor(keep + 1)) else { throw corrupt() }
                        counts.append(Int(c))
                    }
                }
                let assigned = counts.reduce(0, +)
                guard assigned <= keep else { throw corrupt() }
                counts.append(keep - assigned)
                for (part, count) in counts.enumerated() {
                    for _ in 0..<count {
                        guard let position = reader.read(bits: bitsFor(length)), Int(position) < length,
                              let low = reader.read(bits: lowBits) else { throw corrupt() }
                        let code = (part << lowBits) | Int(low)
                        out[r * cols + start + Int(position)] = encoded.scales[r] * Float(code - qmax)
                    }
                }
            }
        }
        return out
    }

    /// The largest `keepPerGroup` whose payload meets `ratio`, or nil if even keeping nothing does not.
    public static func keepForRatio(_ ratio: Double, rows: Int, cols: Int, groupSize: Int, bits: Int, splitBits: Int,
                                    selection: Selection = .magnitude, compact: Bool = false) -> Config? {
        let budget = Double(16 * rows * cols) / ratio
        for keep in stride(from: min(groupSize, cols), through: 0, by: -1) {
            let config = Config(groupSize: groupSize, bits: bits, splitBits: splitBits, keepPerGroup: keep, selection: selection,
                                compact: compact)
            if Double(config.payloadBits(rows: rows, cols: cols)) <= budget { return config }
        }
        return nil
    }

    /// Searches group size and value bits for the least error at compression `ratio`.
    /// `calibration` (optional) holds input rows [n, cols]; the error is then the output error.
    public static func compress(_ delta: [Float], rows: Int, cols: Int, ratio: Double, calibration: Matrix? = nil,
                                splitBits: Int = 1, selections: [Selection] = [.magnitude],
                                groupSizes: [Int] = [8, 16, 32, 64, 128, 256], bitChoices: [Int] = [2, 3, 4, 6, 8],
                                compact: Bool = false, item: String = "delta") throws -> (encoded: Encoded, error: Double) {
        guard ratio.isFinite, ratio >= 1 else { throw OnboardError.invalidArgument("compression ratio must be >= 1, got \(ratio)") }
        guard rows > 0, cols > 0, delta.count == rows * cols else {
            throw OnboardError.shape(item: item, reason: "\(delta.count) values do not fill [\(rows), \(cols)]")
        }
        if let bad = delta.firstNonFiniteIndex {
            throw OnboardError.shape(item: item, reason: "delta element \(bad) is \(delta[bad])")
        }
        if let calibration, calibration.cols != cols {
            throw OnboardError.shape(item: item, reason: "calibration inputs have \(calibration.cols) features, the delta \(cols)")
        }
        var best: (encoded: Encoded, error: Double)?
        var sizes = Set(groupSizes.filter { $0 >= 1 && $0 <= cols })
        sizes.insert(min(cols, groupSizes.filter { $0 >= 1 }.max() ?? cols))
        for selection in selections {
            for groupSize in sizes.sorted() {
                for bits in (compact && selection != .seeded ? [1] : []) + bitChoices where (2...8).contains(bits) || (compact && bits == 1) {
                    let split = selection == .seeded || bits <= splitBits ? 0 : splitBits
                    guard let config = keepForRatio(ratio, rows: rows, cols: cols, groupSize: groupSize, bits: bits,
                                                    splitBits: split, selection: selection, compact: compact)
                    else { continue }
                    // A compact (rescaled) encoding that keeps nothing would win the search by default.
                    if compact && config.keepPerGroup == 0 { continue }
                    let encoded = try encode(delta, rows: rows, cols: cols, config: config, item: item)
                    let error = try reconstructionError(delta, try decode(encoded, item: item), rows: rows, cols: cols, calibration: calibration)
                    if error < (best?.error ?? .infinity) { best = (encoded, error) }
                }
            }
        }
        guard let best else {
            throw OnboardError.invalidArgument("\(item): ratio \(ratio) is out of reach even with every value dropped (16-bit row scales alone exceed it)")
        }
        return best
    }

    /// ||X (a - b)^T||^2 / n (output MSE) with calibration X, else the weight MSE.
    static func reconstructionError(_ a: [Float], _ b: [Float], rows: Int, cols: Int, calibration: Matrix?) throws -> Double {
        guard let calibration else { return QuantMetrics.mse(a, b) }
        let difference = try Matrix(rows: rows, cols: cols, values: zip(a, b).map { $0 - $1 })
        let out = try calibration.multiplied(by: difference, transposeOther: true)
        return QuantMetrics.mse(out.values, [Float](repeating: 0, count: out.values.count))
    }
}
