/// The symmetric clipping range of a weight tensor (or one output channel) that minimises the
/// squared quantization error, searched over a grid of fractions of the largest magnitude.
/// Per-tensor weights suffer most from one large value stretching every other value's step:
/// clipping it trades a little error on the outlier for finer steps everywhere else.
public enum SymmetricClipSearch {
    /// Largest |value| kept, among `amax · (1 - i / (2 · steps))` for i in 0...steps (down to half of
    /// amax); the unclipped amax wins ties, so the result is never worse than max scaling.
    public static func mseClip(_ values: UnsafeBufferPointer<Float>, bits: Int, steps: Int = 50) -> Float {
        let amax = values.reduce(Float(0)) { max($0, $1.magnitude.isFinite ? $1.magnitude : 0) }
        guard amax > 0, steps > 0 else { return amax }
        var best = (clip: amax, error: Double.infinity)
        for i in 0...steps {
            let clip = amax * (1 - Float(i) / Float(2 * steps))
            let params = QuantParams.affine(min: -clip, max: clip, bits: bits, symmetric: true)
            var error = 0.0
            for x in values where x.isFinite {
                let e = Double(x - params.fakeQuantize(x))
                error += e * e
            }
            if error < best.error { best = (clip, error) }
        }
        return best.clip
    }
}
