import OnboardCore

/// ADFQ-ViT's Per-Patch Outlier-aware quantizer for post-LayerNorm activations [batch, tokens, channels].
///
/// Values with `|x| > threshold` are outliers: they bypass quantization and stay full precision. The rest
/// get a uniform asymmetric quantizer with static parameters per token position, calibrated once over
/// batch x channels by ADFQ-ViT's quantile search (p in {0.999, 0.9999, 0.99999}, least L2 error), with
/// outliers excluded from calibration as they are from quantization. The reference code hard-codes
/// threshold 5 (qkv) and 5 or 10 (fc1); we take it as a parameter.
public struct PerPatchOutlierQuantizer: Sendable {
    public let tokens: Int
    public let channels: Int
    public let bits: Int
    public let threshold: Float
    public let params: [QuantParams]

    /// Calibrates from batches shaped [*, tokens, channels] (flattened, row-major).
    public init(calibration batches: [[Float]], tokens: Int, channels: Int, bits: Int, threshold: Float,
                item: String, histogramBins: Int = 512) throws {
        guard tokens > 0, channels > 0 else { throw OnboardError.shape(item: item, reason: "tokens and channels must be positive") }
        guard threshold > 0, threshold.isFinite else { throw OnboardError.invalidArgument("\(item): outlier threshold must be positive") }
        var options = ObserverOptions()
        options.bits = bits
        options.histogramBins = histogramBins
        var observers = (0..<tokens).map { QuantileObserver(item: "\(item) token \($0)", options: options) }
        var kept = [Float]()
        kept.reserveCapacity(channels)
        for batch in batches {
            guard batch.count % (tokens * channels) == 0 else {
                throw OnboardError.shape(item: item, reason: "batch of \(batch.count) values is not a multiple of \(tokens) x \(channels)")
            }
            for row in 0..<(batch.count / channels) {
                kept.removeAll(keepingCapacity: true)
                for v in batch[(row * channels)..<((row + 1) * channels)] where !(abs(v) > threshold) { kept.append(v) }
                try observers[row % tokens].observe(kept)
            }
        }
        params = observers.map { observer in
            let range = (try? observer.calibratedRange()) ?? (0, 0)  // a token whose values were all outliers
            return QuantParams.affine(min: range.0, max: range.1, bits: bits, symmetric: false)
        }
        self.tokens = tokens
        self.channels = channels
        self.bits = bits
        self.threshold = threshold
    }

    /// Quantize-dequantize one activation tensor [*, tokens, channels]; also returns the fraction of
    /// values kept at full precision.
    public func fakeQuantize(_ values: [Float], item: String) throws -> (values: [Float], outlierFraction: Double) {
        guard values.count % (tokens * channels) == 0 else {
            throw OnboardError.shape(item: item, reason: "\(values.count) values are not a multiple of \(tokens) x \(channels)")
        }
        var out = values
        var outliers = 0
        for i in values.indices {
            let v = values[i]
            guard v.isFinite else { throw OnboardError.shape(item: item, reason: "element \(i) is \(v)") }
            if abs(v) > threshold {
                outliers += 1
            } else {
                out[i] = params[(i / channels) % tokens].fakeQuantize(v)
            }
        }
        return (out, values.isEmpty ? 0 : Double(outliers) / Double(values.count))
    }
}
