import Foundation

/// Error metrics between a float reference and a (de)quantized version of it. Sums run in Double.
/// Buffers of different lengths are compared over their common prefix.
public enum QuantMetrics {
    /// Signal-to-quantization-noise ratio in dB: `20 log10(|x| / |x - y|)`; +inf when equal.
    public static func sqnr(_ reference: UnsafeBufferPointer<Float>, _ test: UnsafeBufferPointer<Float>) -> Double {
        var signal = 0.0, noise = 0.0
        for i in 0..<min(reference.count, test.count) {
            let x = Double(reference[i]), d = x - Double(test[i])
            signal += x * x
            noise += d * d
        }
        if noise == 0 { return .infinity }
        return 10 * log10(signal / noise)
    }

    /// Cosine similarity; 1 when both are zero, 0 when only one is.
    public static func cosine(_ reference: UnsafeBufferPointer<Float>, _ test: UnsafeBufferPointer<Float>) -> Double {
        var dot = 0.0, nx = 0.0, ny = 0.0
        for i in 0..<min(reference.count, test.count) {
            let x = Double(reference[i]), y = Double(test[i])
            dot += x * y
            nx += x * x
            ny += y * y
        }
        if nx == 0 && ny == 0 { return 1 }
        if nx == 0 || ny == 0 { return 0 }
        return dot / (nx.squareRoot() * ny.squareRoot())
    }

    /// Mean squared error (0 for empty input).
    public static func mse(_ reference: UnsafeBufferPointer<Float>, _ test: UnsafeBufferPointer<Float>) -> Double {
        let n = min(reference.count, test.count)
        guard n > 0 else { return 0 }
        var sum = 0.0
        for i in 0..<n {
            let d = Double(reference[i]) - Double(test[i])
            sum += d * d
        }
        return sum / Double(n)
    }

    /// KL(p || q) in nats between two non-negative histograms, each normalized to sum 1.
    /// Bins where `q` is 0 but `p` is not are smoothed with `epsilon` (TensorRT-style) so the result is finite.
    public static func kl(_ p: UnsafeBufferPointer<Float>, _ q: UnsafeBufferPointer<Float>, epsilon: Double = 1e-10) -> Double {
        let n = min(p.count, q.count)
        var sp = 0.0, sq = 0.0
        for i in 0..<n {
            sp += max(Double(p[i]), 0)
            sq += max(Double(q[i]), 0)
        }
        guard sp > 0, sq > 0 else { return sp == sq ? 0 : .infinity }
        var sum = 0.0
        for i in 0..<n {
            let pi = max(Double(p[i]), 0) / sp
            guard pi > 0 else { continue }
            let qi = max(max(Double(q[i]), 0) / sq, epsilon)
            sum += pi * log(pi / qi)
        }
        return max(sum, 0)
    }

    /// `x` to `digits` significant decimal digits (non-finite values as they are). A figure that is
    /// sorted and reported is rounded first: the last digits depend on the summation order of the
    /// ISA path and thread count, and a JSON reader may not parse 17 digits back to the same Double.
    public static func reported(_ x: Double, digits: Int = 10) -> Double {
        guard x.isFinite, x != 0 else { return x }
        return Double(String(format: "%.\(digits)g", x)) ?? x
    }

    /// Array conveniences.
    public static func sqnr(_ reference: [Float], _ test: [Float]) -> Double {
        reference.withUnsafeBufferPointer { r in test.withUnsafeBufferPointer { sqnr(r, $0) } }
    }
    public static func cosine(_ reference: [Float], _ test: [Float]) -> Double {
        reference.withUnsafeBufferPointer { r in test.withUnsafeBufferPointer { cosine(r, $0) } }
    }
    public static func mse(_ reference: [Float], _ test: [Float]) -> Double {
        reference.withUnsafeBufferPointer { r in test.withUnsafeBufferPointer { mse(r, $0) } }
    }
    public static func kl(_ p: [Float], _ q: [Float]) -> Double {
        p.withUnsafeBufferPointer { a in q.withUnsafeBufferPointer { kl(a, $0) } }
    }
}
