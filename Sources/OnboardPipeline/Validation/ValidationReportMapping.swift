import Foundation
import OnboardEval
import OnboardGraph
import OnboardQuant

/// From `onboard compare`'s per-tensor diagnosis to the validation report's per-layer rows
/// (cosine and max error of the accumulated run, as `compare` prints them).
extension ValidationReport.LayerSQNR {
    public init(_ tensor: QuantizationDiagnosis.TensorReport) {
        self.init(name: tensor.name, kind: tensor.op, accumulatedDB: tensor.accumulated.sqnr, isolatedDB: tensor.isolated.sqnr,
                  cosine: tensor.accumulated.cosine, maxError: tensor.accumulated.maxError)
    }
}

extension ValidationReport.LayerSQNR {
    /// One layer's rows of several samples (same tensor): SQNR pooled over the samples as the mean
    /// noise-to-signal power ratio (so a sample without error counts as 0 noise, not as +inf dB),
    /// mean cosine, largest max error.
    public init?(merging rows: [QuantizationDiagnosis.TensorReport]) {
        guard let first = rows.first else { return nil }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        self.init(name: first.name, kind: first.op, accumulatedDB: Self.pooledDB(rows.map(\.accumulated.sqnr)),
                  isolatedDB: Self.pooledDB(rows.map(\.isolated.sqnr)), cosine: mean(rows.map(\.accumulated.cosine)),
                  maxError: rows.map(\.accumulated.maxError).max() ?? .nan)
    }

    /// -10 log10(mean(10^(-dB/10))): +inf when every sample is exact; NaN when one is NaN.
    public static func pooledDB(_ values: [Double]) -> Double {
        guard !values.isEmpty, !values.contains(where: \.isNaN) else { return .nan }
        let ratio = values.map { $0 == .infinity ? 0 : Foundation.pow(10, -$0 / 10) }.reduce(0, +) / Double(values.count)
        return ratio == 0 ? .infinity : QuantMetrics.reported(-10 * Foundation.log10(ratio))
    }
}
