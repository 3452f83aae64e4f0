/// The integer row kernels' formulas (q8_rows.h) written out in Swift with 64-bit and 128-bit
/// integers, step by step as documented: the oracle the reference kernels (and through them every
/// vector path) are checked against, so these tests test what runs on every CPU.
enum Q8RowsOracle {
    /// round(x / 2^s), ties away from zero.
    static func roundingShift(_ x: Int64, _ s: Int) -> Int64 {
        guard s > 0 else { return x }
        let magnitude = (x.magnitude + (1 << UInt64(s - 1))) >> UInt64(s)
        return x < 0 ? -Int64(magnitude) : Int64(magnitude)
    }

    /// QANS with a fixed-point multiplier: each row relative to its max (scale >= 0) or min, values
    /// more than 2^30 below the top raised to top - 2^30.
    static func stabilize(_ sums: [Int32], width: Int, ascending: Bool, multiplier: Int32, shift: Int32,
                          zeroPoint: Int32, qmin: Int32, qmax: Int32) -> [UInt8] {
        stride(from: 0, to: sums.count, by: width).flatMap { start -> [UInt8] in
            let row = sums[start..<(start + width)]
            let top = Int64(ascending ? row.max()! : row.min()!)
            let lowest = max(top - (1 << 30), Int64(Int32.min))
            return row.map { v in
                let difference = Int32(max(Int64(v), lowest) - top)
                let q = Int64(Q8GemmTests.gemmlowpMultiply(difference, multiplier, shift)) + Int64(zeroPoint)
                return UInt8(min(max(q, Int64(qmin)), Int64(qmax)))
            }
        }
    }

    /// m = round(numerator / sum table[top - x]), y = clamp(zero_point + round(table[d] m / 2^shift)).
    static func softmax(_ codes: [UInt8], width: Int, table: [Int32], numerator: Int64, shift: Int32,
                        zeroPoint: Int32, qmin: Int32, qmax: Int32) -> [UInt8] {
        stride(from: 0, to: codes.count, by: width).flatMap { start -> [UInt8] in
            let row = codes[start..<(start + width)]
            let top = row.max()!
            let sum = row.reduce(Int64(0)) { $0 + Int64(table[Int(top - $1)]) }
            let m = (numerator + sum / 2) / sum
            return row.map { x in
                let q = (Int64(table[Int(top - x)]) * m + (1 << Int64(shift - 1))) >> Int64(shift)
                return UInt8(min(max(Int64(zeroPoint) + q, Int64(qmin)), Int64(qmax)))
            }
        }
    }

    /// floor(sqrt(n)) by bisection.
    static func isqrt(_ n: UInt64) -> UInt64 {
        var low: UInt64 = 0, high: UInt64 = 1 << 32
        while high - low > 1 {
            let middle = (low + high) / 2
            if middle.multipliedFullWidth(by: middle) <= (0, n) { low = middle } else { high = middle }
        }
        return low
    }

    /// DI-Norm: D = n x - sum x; denominator isqrt(sum D^2 2^2p / n + epsilon 2^2p) with the largest
    /// p <= 20 whose scaled sum fits 61 bits; the row's reciprocal 2^(F+p) / denominator as a 31-bit
    /// multiplier m and shift s (s raised to 1 by doubling m); then per channel
    /// round(round(D m 2^-s) gain 2^-gain_shift) + bias, rounded by 2^F, + zero_point, clamped.
    static func layerNorm(_ codes: [UInt8], width: Int, gains: [(Int32, Int32)], biases: [Int64], epsilon: Int64,
                          fractionBits: Int32, zeroPoint: Int32, qmin: Int32, qmax: Int32) -> [UInt8] {
        stride(from: 0, to: codes.count, by: width).flatMap { start -> [UInt8] in
            let row = codes[start..<(start + width)].map(Int64.init)
            let n = Int64(width), sum = row.reduce(0, +)
            let d = row.map { n * $0 - sum }
            let squares = d.reduce(0) { $0 + $1 * $1 }
            let largest = max(squares, epsilon, 1)
            let p = min(max((61 - (64 - largest.leadingZeroBitCount)) / 2, 0), 20)
            let denominator = max(Int64(isqrt(UInt64(((squares << (2 * p)) / n) + (epsilon << (2 * p))))), 1)
            let length = 64 - denominator.leadingZeroBitCount
            var m = ((Int64(1) << (30 + length)) + denominator / 2) / denominator
            var s = 30 + length - Int(fractionBits) - p
            if s < 1 { m <<= 1 - s; s = 1 }
            return d.indices.map { j in
                let normalized = roundingShift(d[j] * m, s)
                let affine = roundingShift(normalized * Int64(gains[j].0), Int(gains[j].1)) + biases[j]
                let code = roundingShift(affine, Int(fractionBits)) + Int64(zeroPoint)
                return UInt8(min(max(code, Int64(qmin)), Int64(qmax)))
            }
        }
    }
}
