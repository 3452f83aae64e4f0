/// Summary statistics of a tensor's elements (in Double, so large tensors stay accurate).
public struct TensorStatistics: Sendable, Equatable {
    public let min: Float
    public let max: Float
    public let mean: Double
    public let std: Double
    public let nonFiniteCount: Int

    public init(_ tensor: Tensor) {
        var lo = Float.infinity, hi = -Float.infinity
        var sum = 0.0, sumSquares = 0.0
        var finite = 0, nonFinite = 0
        for i in 0..<tensor.count {
            let x = tensor.element(at: i)
            guard x.isFinite else { nonFinite += 1; continue }
            lo = Swift.min(lo, x)
            hi = Swift.max(hi, x)
            sum += Double(x)
            sumSquares += Double(x) * Double(x)
            finite += 1
        }
        min = finite > 0 ? lo : .nan
        max = finite > 0 ? hi : .nan
        mean = finite > 0 ? sum / Double(finite) : .nan
        std = finite > 0 ? (Swift.max(0, sumSquares / Double(finite) - mean * mean)).squareRoot() : .nan
        nonFiniteCount = nonFinite
    }
}
