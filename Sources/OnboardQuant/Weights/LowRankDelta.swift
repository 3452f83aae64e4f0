import OnboardCore

/// The low-rank part of a delta: Δ ≈ U V with U [rows, rank] and V [rank, cols], each row of both
/// stored as symmetric b-bit codes with one f16 scale. A fine-tune's delta is often close to low
/// rank where the task moved few directions (the detector's position encoder: 93 % of the energy in
/// rank 4), which codes of single values cannot exploit.
public enum LowRankDelta {
    public struct Encoded: Sendable {
        public let rows: Int
        public let cols: Int
        public let rank: Int
        public let bits: Int
        /// The rows of U, then the rows of V (already rounded to f16).
        public let scales: [Float]
        public let stream: [UInt8]

        public var payloadBits: Int { LowRankDelta.payloadBits(rows: rows, cols: cols, rank: rank, bits: bits) }
        /// What the part takes in a delta file: its codes padded to whole bytes and its f16 scales.
        public var storedBits: Int { 8 * stream.count + 16 * scales.count }
    }

    /// The bits `encode` spends on a rank-`rank` part of a [rows, cols] delta.
    public static func payloadBits(rows: Int, cols: Int, rank: Int, bits: Int) -> Int {
        bits * rank * (rows + cols) + 16 * (rows + rank)
    }

    /// The largest rank whose part fits `budgetBits`, at most min(rows, cols); 0 when none fits.
    public static func rank(forBudget budgetBits: Double, rows: Int, cols: Int, bits: Int) -> Int {
        let fitting = (budgetBits - Double(16 * rows)) / Double(bits * (rows + cols) + 16)
        return fitting >= 1 ? min(Int(fitting), rows, cols) : 0
    }

    /// Δ [rows, cols] (row-major) factored at `rank` by randomized subspace iteration (seeded, so the
    /// result is deterministic) and coded at `bits` (2...8).
    public static func encode(_ delta: [Float], rows: Int, cols: Int, rank: Int, bits: Int, item: String = "delta") throws -> Encoded {
        guard rows > 0, cols > 0, delta.count == rows * cols, (1...min(rows, cols)).contains(rank), (2...8).contains(bits) else {
            throw OnboardError.shape(item: item, reason: "rank \(rank) at \(bits) bits for a [\(rows), \(cols)] delta")
        }
        let m = try Matrix(rows: rows, cols: cols, values: delta)
        var random = SplitMix64(seed: 0x10_4A4B)
        var basis = try m * Matrix(rows: cols, cols: rank, values: (0..<(cols * rank)).map { _ in random.nextGaussian() })
        basis = orthonormalized(basis)
        for _ in 0..<4 {
            basis = orthonormalized(try m * orthonormalized(try m.multiplied(by: basis, transposeSelf: true)))
        }
        let v = try basis.multiplied(by: m, transposeSelf: true)
        var writer = BitWriter()
        let uScales = quantizeRows(basis, bits: bits, into: &writer), vScales = quantizeRows(v, bits: bits, into: &writer)
        guard vScales.allSatisfy(\.isFinite) else {
            throw OnboardError.shape(item: item, reason: "delta values exceed what f16 row scales can hold")
        }
        return Encoded(rows: rows, cols: cols, rank: rank, bits: bits, scales: uScales + vScales, stream: writer.bytes)
    }

    /// U V of an encoded part, [rows, cols].
    public static func decode(_ encoded: Encoded, item: String = "delta") throws -> [Float] {
        let (rows, cols, rank, bits) = (encoded.rows, encoded.cols, encoded.rank, encoded.bits)
        guard (2...8).contains(bits), (1...min(rows, cols)).contains(rank), encoded.scales.count == rows + rank,
              8 * encoded.stream.count >= bits * rank * (rows + cols) else {
            throw OnboardError.shape(item: item, reason: "low-rank part of rank \(rank) at \(bits) bits does not match its scales and stream")
        }
        var reader = BitReader(bytes: encoded.stream)
        let qmax = (1 << (bits - 1)) - 1
        func rowsOf(_ count: Int, width: Int, scales: ArraySlice<Float>) throws -> Matrix {
            var values = [Float](repeating: 0, count: count * width)
            for r in 0..<count {
                let scale = scales[scales.startIndex + r]
                for c in 0..<width {
                    guard let code = reader.read(bits: bits) else { throw OnboardError.shape(item: item, reason: "low-rank stream is truncated") }
                    values[r * width + c] = scale * Float(Int(code) - qmax)
                }
            }
            return try Matrix(rows: count, cols: width, values: values)
        }
        let u = try rowsOf(rows, width: rank, scales: encoded.scales.prefix(rows))
        let v = try rowsOf(rank, width: cols, scales: encoded.scales.suffix(rank))
        return try (u * v).values
    }

    /// Columns made orthonormal (modified Gram-Schmidt, twice for accuracy); a column that
    /// vanishes stays zero.
    static func orthonormalized(_ a: Matrix) -> Matrix {
        var q = a
        for _ in 0..<2 {
            for j in 0..<q.cols {
                for k in 0..<j {
                    var dot: Float = 0
                    for r in 0..<q.rows { dot += q[r, k] * q[r, j] }
                    for r in 0..<q.rows { q[r, j] -= dot * q[r, k] }
                }
                var norm: Float = 0
                for r in 0..<q.rows { norm += q[r, j] * q[r, j] }
                norm = norm.squareRoot()
                for r in 0..<q.rows { q[r, j] = norm > 1e-30 ? q[r, j] / norm : 0 }
            }
        }
        return q
    }

    /// Symmetric per-row codes (max / qmax scales rounded to f16); returns the scales.
    private static func quantizeRows(_ m: Matrix, bits: Int, into writer: inout BitWriter) -> [Float] {
        let qmax = Float((1 << (bits - 1)) - 1)
        return (0..<m.rows).map { r in
            let row = m.values[(r * m.cols)..<((r + 1) * m.cols)]
            let scale = HalfFloat.f16ToFloat(HalfFloat.floatToF16((row.map { abs($0) }.max() ?? 0) / qmax))
            for value in row {
                let code = scale > 0 ? min(max((value / scale).rounded(), -qmax), qmax) : 0
                writer.write(UInt32(Int(code) + Int(qmax)), bits: bits)
            }
            return scale
        }
    }
}
