import Foundation
import OnboardCore

/// Q-PETR's DuLUT: a nonlinear function on integer codes from two cascaded linear lookup tables.
///
/// Q-PETR says only that the LUT allocation is treated as a function and replaced by a linear LUT; table
/// sizes and layout are not public. Ours: the first table is that allocation function, a monotone
/// piecewise-linear warp `u = g(x)` from the input code to a position in the second table, with one knot
/// per coarse input segment (uniform in x, indexed by the code's top bits). The second table holds output
/// codes at the integer positions u = 0, 1, ... and is interpolated linearly. Knots sit on integer
/// positions, so coarse segment j owns n_j equal sub-intervals of the second table; the n_j are
/// allocated greedily (one more to the segment with the largest error) until the second table's budget
/// is spent, so curved regions get dense points and straight ones a single interval. That is what lets
/// DuLUT beat a uniform table of the same size. Evaluation is two lookups and two interpolations (integer
/// multiply, add, shift). `maxError` is measured over every input code when the tables are built.
public struct DuLUT: Sendable {
    static let positionBits = 12

    public let inputBits: Int
    public let inputScale: Float
    public let outputScale: Float
    /// First table: positions in `values` (fixed point, `positionBits` fraction bits) at every 2^coarseShift codes.
    public let warp: [Int32]
    public let coarseShift: Int
    /// Second table: output codes (`real = outputScale * code`).
    public let values: [Int32]
    /// Largest |DuLUT(x) - f(x)| over all input codes, in real units.
    public let maxError: Double

    /// Entries of both tables.
    public var entryCount: Int { warp.count + values.count }

    /// - Parameters: signed `inputBits` codes `[-2^(b-1), 2^(b-1) - 1]` with `inputScale`; `coarseSegments`
    ///   (a power of two) intervals of the first table; `points` entries in the second; `outputScale` of
    ///   the output codes. `coarseSegments = 1` gives a plain uniform table.
    public init(_ function: @escaping @Sendable (Double) -> Double, inputBits: Int, inputScale: Float,
                outputScale: Float, coarseSegments: Int, points: Int) throws {
        guard (4...16).contains(inputBits) else { throw OnboardError.invalidArgument("DuLUT input bits must be in 4...16") }
        guard coarseSegments >= 1, coarseSegments & (coarseSegments - 1) == 0, coarseSegments < (1 << inputBits) else {
            throw OnboardError.invalidArgument("DuLUT coarse segments must be a power of two below 2^\(inputBits)")
        }
        guard points >= 2, points < (1 << 18) else { throw OnboardError.invalidArgument("DuLUT needs 2...2^18 second-table points") }
        guard inputScale > 0, outputScale > 0, inputScale.isFinite, outputScale.isFinite else {
            throw OnboardError.invalidArgument("DuLUT scales must be positive")
        }
        let codes = 1 << inputBits, lowest = -(codes / 2), segmentCount = coarseSegments
        let shift = inputBits - coarseSegments.trailingZeroBitCount, width = 1 << shift
        guard points - 1 >= segmentCount else {
            throw OnboardError.invalidArgument("DuLUT needs at least \(segmentCount + 1) second-table points for \(segmentCount) segments")
        }
        func real(_ index: Double) -> Double { Double(inputScale) * (Double(lowest) + index) }
        func code(_ index: Double) throws -> Int32 {
            let x = real(index)
            guard let q = IntegerMath.roundedInteger(function(x) / Double(outputScale)), abs(q) <= Int64(Int32.max) else {
                throw OnboardError.invalidArgument("DuLUT: f(\(x)) is not finite or does not fit 32-bit output codes")
            }
            return Int32(q)
        }
        func tables(_ counts: [Int]) throws -> (warp: [Int32], values: [Int32]) {
            var warp: [Int32] = [0], values: [Int32] = []
            for (j, n) in counts.enumerated() {
                for k in 0..<n {
                    let index = Double(j * width) + Double(k) * Double(width) / Double(n)
                    values.append(try code(index))
                }
                warp.append(warp[warp.count - 1] + Int32(n << Self.positionBits))
            }
            // The last point sits one past the last code so every code interpolates inside the table.
            values.append(try code(Double(codes)))
            return (warp, values)
        }
        func segmentErrors(_ t: (warp: [Int32], values: [Int32])) -> [Double] {
            (0..<segmentCount).map { j in
                var worst = 0.0
                for offset in (j * width)..<((j + 1) * width) {
                    let y = Self.evaluate(Int64(offset), warp: t.warp, values: t.values, shift: shift)
                    worst = max(worst, abs(Double(y) * Double(outputScale) - function(real(Double(offset)))))
                }
                return worst
            }
        }
        var counts = [Int](repeating: 1, count: segmentCount)
        var built = try tables(counts)
        var errors = segmentErrors(built)
        while counts.reduce(0, +) < points - 1 {
            let candidates = (0..<segmentCount).filter { counts[$0] < width }
            guard let worst = candidates.max(by: { errors[$0] < errors[$1] }), errors[worst] > 0 else { break }
            counts[worst] += 1
            built = try tables(counts)
            errors = segmentErrors(built)
        }
        self.inputBits = inputBits
        self.inputScale = inputScale
        self.outputScale = outputScale
        coarseShift = shift
        warp = built.warp
        values = built.values
        maxError = errors.max() ?? 0
    }

    /// Output code for an input code (clamped to the input range). Integer only.
    public func callAsFunction(_ code: Int32) -> Int32 {
        let lowest = -(Int64(1) << (inputBits - 1)), highest = (Int64(1) << (inputBits - 1)) - 1
        return Self.evaluate(min(max(Int64(code), lowest), highest) - lowest, warp: warp, values: values, shift: coarseShift)
    }

    /// The cascade for a code offset from the lowest code: warp lookup, then value lookup.
    static func evaluate(_ offset: Int64, warp: [Int32], values: [Int32], shift: Int) -> Int32 {
        let j = Int(offset >> shift), local = offset & ((1 << shift) - 1)
        let g0 = Int64(warp[j]), g1 = Int64(warp[j + 1])
        let u = g0 + Dyadic.roundingShift((g1 - g0) * local, shift)
        let one = Int64(1) << positionBits
        var i = Int(u >> positionBits), fraction = u & (one - 1)
        if i >= values.count - 1 { i = values.count - 2; fraction = one }
        let y0 = Int64(values[i]), y1 = Int64(values[i + 1])
        return Int32(clamping: y0 + Dyadic.roundingShift((y1 - y0) * fraction, positionBits))
    }

    /// A single uniform table of `entries` points (the baseline DuLUT is measured against).
    public static func uniform(_ function: @escaping @Sendable (Double) -> Double, inputBits: Int, inputScale: Float,
                               outputScale: Float, entries: Int) throws -> DuLUT {
        try DuLUT(function, inputBits: inputBits, inputScale: inputScale, outputScale: outputScale,
                  coarseSegments: 1, points: entries - 2)
    }
}
