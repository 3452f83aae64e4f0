import OnboardCore

/// CFWS (coarse & fine weight splitting) for re-parameterized convolutions (RepVGG-style).
///
/// After re-parameterization a 3x3 kernel's centre tap holds the sum of the 3x3, 1x1 and identity
/// branches, so it is far larger than the other eight taps and one scale per output channel wastes most
/// levels on it. Following the reference code's default (`divide_weight_headache`, centre extraction):
/// the centre taps are quantized coarsely (per output channel, `s_c = max|W_c| / (2^(b-1) - 1)`), that
/// coarse part is one kernel (non-zero only at the centre), and the fine kernel is everything else plus
/// the centre's rounding residual. Both are quantized symmetric per output channel at `bits` and executed
/// as two integer convolutions whose outputs add (`y = conv(x, Q(W_coarse)) + conv(x, Q(W_fine)) + b`).
/// `.whole` is the reference code's tensor/channel-wise variant: coarse = round(W / s) s over all taps.
public enum CFWS {
    public enum Mode: String, Sendable { case center, whole }

    public struct Split: Sendable {
        public var coarse: [Float]
        public var fine: [Float]
        /// The kernel the two integer convolutions compute together.
        public var reconstructed: [Float] { zip(coarse, fine).map { $0 + $1 } }
    }

    /// Splits and quantizes a kernel [out, in, kh, kw] (odd kh, kw for `.center`).
    public static func split(_ weight: [Float], shape: [Int], bits: Int, mode: Mode = .center, item: String = "conv") throws -> Split {
        guard (2...8).contains(bits) else { throw OnboardError.invalidArgument("\(item): CFWS bits must be in 2...8, got \(bits)") }
        guard shape.count == 4, shape.allSatisfy({ $0 > 0 }), shape.reduce(1, *) == weight.count else {
            throw OnboardError.shape(item: item, reason: "CFWS needs a kernel [out, in, kh, kw], got \(shape) with \(weight.count) values")
        }
        if mode == .center, shape[2] % 2 == 0 || shape[3] % 2 == 0 {
            throw OnboardError.shape(item: item, reason: "centre extraction needs an odd kernel, got \(shape[2])x\(shape[3])")
        }
        if let bad = weight.firstNonFiniteIndex {
            throw OnboardError.shape(item: item, reason: "weight element \(bad) is \(weight[bad])")
        }
        let taps = shape[2] * shape[3], center = (shape[2] / 2) * shape[3] + shape[3] / 2
        let perChannel = weight.count / shape[0]
        let qmax = Float((1 << (bits - 1)) - 1)
        var coarse = [Float](repeating: 0, count: weight.count)
        for o in 0..<shape[0] {
            let range = (o * perChannel)..<((o + 1) * perChannel)
            let isCoarse: (Int) -> Bool = { mode == .whole || ($0 % taps) == center }
            let amax = range.filter { isCoarse($0) }.map { abs(weight[$0]) }.max() ?? 0
            let scale = amax > 0 ? amax / qmax : 1
            for i in range where isCoarse(i) { coarse[i] = (weight[i] / scale).rounded(.toNearestOrAwayFromZero) * scale }
        }
        let fine = zip(weight, coarse).map { $0 - $1 }
        let quantizer = try UniformQuantizer(bits: bits, symmetric: true, granularity: .perChannel(axis: 0))
        return Split(coarse: try quantizer.fakeQuantize(coarse, shape: shape, item: item),
                     fine: try quantizer.fakeQuantize(fine, shape: shape, item: item))
    }
}
