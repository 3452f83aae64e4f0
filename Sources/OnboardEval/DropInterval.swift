import Foundation
import OnboardCore

/// How far the INT8 drop could move on other samples like these: a paired bootstrap over the
/// evaluation samples. Each replicate draws the samples with replacement, the same draw for both
/// precisions, and scores FP32 and INT8 on it with the nuScenes metric; the interval holds the
/// central `confidence` share of the replicates' relative drops (INT8 / FP32 − 1, negative when
/// INT8 is worse).
public struct DropInterval: Codable, Sendable, Equatable {
    public var confidence: Double
    public var replicates: Int
    /// [low, high] relative mAP drop.
    public var meanAP: [Double]
    /// [low, high] relative NDS drop.
    public var ndScore: [Double]

    enum CodingKeys: String, CodingKey {
        case confidence, replicates, meanAP = "mean_ap", ndScore = "nd_score"
    }

    public init(confidence: Double, replicates: Int, meanAP: [Double], ndScore: [Double]) {
        self.confidence = confidence; self.replicates = replicates; self.meanAP = meanAP; self.ndScore = ndScore
    }

    /// "mAP [-2.10 %, +0.31 %], NDS [-1.02 %, +0.12 %] (95 % paired bootstrap over samples, 200 replicates)".
    public var text: String {
        func range(_ ends: [Double]) -> String {
            let shown = ends.map { $0.isFinite ? String(format: "%+.2f %%", 100 * $0) : "n/a" }
            return "[" + shown.joined(separator: ", ") + "]"
        }
        return "mAP \(range(meanAP)), NDS \(range(ndScore)) (\(Int((100 * confidence).rounded())) % paired bootstrap "
            + "over samples, \(replicates) replicates)"
    }

    /// Matching runs once per precision, class and threshold; a replicate repeats each sample's
    /// matches as often as it was drawn, which scores the same as evaluating the drawn copies.
    public static func bootstrap(groundTruth: GroundTruth, fp32: EvalBoxes, int8: EvalBoxes, replicates: Int = 200,
                                 confidence: Double = 0.95, seed: UInt64 = 0,
                                 config: DetectionConfig = .cvpr2019) -> DropInterval {
        let reference = PrecisionMatches(groundTruth: groundTruth, predictions: fp32, config: config)
        let quantized = PrecisionMatches(groundTruth: groundTruth, predictions: int8, config: config)
        let samples = groundTruth.sampleTokens
        var generator = SplitMix64(seed: seed)
        var mapDrops: [Double] = [], ndsDrops: [Double] = []
        for _ in 0..<max(replicates, 0) where !samples.isEmpty {
            var counts = [Int](repeating: 0, count: samples.count)
            for _ in samples.indices { counts[Int(generator.next() % UInt64(samples.count))] += 1 }
            let a = reference.summary(counts: counts), b = quantized.summary(counts: counts)
            mapDrops.append(b.meanAP / a.meanAP - 1)
            ndsDrops.append(b.ndScore / a.ndScore - 1)
        }
        let tail = (1 - confidence) / 2
        func ends(_ drops: [Double]) -> [Double] {
            let finite = drops.filter(\.isFinite).sorted()
            return [quantile(finite, tail), quantile(finite, 1 - tail)]
        }
        return DropInterval(confidence: confidence, replicates: mapDrops.count, meanAP: ends(mapDrops), ndScore: ends(ndsDrops))
    }

    /// numpy's default (linear) quantile of sorted values; NaN when there are none.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard let last = sorted.indices.last else { return .nan }
        let position = q * Double(last)
        let below = Int(position.rounded(.down)), above = Swift.min(below + 1, last)
        return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
    }
}

/// One precision's matches per class and threshold, and its ground-truth boxes per class and sample,
/// with samples as indexes into the ground truth's sample tokens.
struct PrecisionMatches {
    let config: DetectionConfig
    let matches: [String: [Double: SampledMatches]]
    /// Per class, ground-truth boxes per sample index.
    let positives: [String: [Int]]

    init(groundTruth: GroundTruth, predictions: EvalBoxes, config: DetectionConfig) {
        let (truth, predicted) = DetectionEvaluation.filtered(groundTruth: groundTruth, predictions: predictions, config: config)
        let index = Dictionary(groundTruth.sampleTokens.enumerated().map { ($1, $0) }) { first, _ in first }
        var matches: [String: [Double: SampledMatches]] = [:]
        var positives: [String: [Int]] = [:]
        for name in config.classNames {
            for threshold in Set(config.distanceThresholds + [config.tpDistanceThreshold]) {
                matches[name, default: [:]][threshold] = SampledMatches(
                    Matching.match(groundTruth: truth, predictions: predicted, className: name, threshold: threshold), index: index)
            }
        }
        for box in truth.all {
            guard let sample = index[box.sampleToken] else { continue }
            positives[box.detectionName, default: [Int](repeating: 0, count: index.count)][sample] += 1
        }
        self.config = config; self.matches = matches; self.positives = positives
    }

    /// The metrics summary of the set in which sample i appears `counts[i]` times.
    func summary(counts: [Int]) -> MetricsSummary {
        DetectionEvaluation.summarize(config: config, meta: .object([:])) { name, threshold in
            let classPositives = zip(positives[name] ?? [], counts).reduce(0) { $0 + $1.0 * $1.1 }
            guard let sampled = matches[name]?[threshold] else { return .noPredictions }
            return Accumulate.metricData(sampled.repeated(counts), positives: classPositives)
        }
    }
}

/// A class's matches with the sample index of each prediction and each match.
struct SampledMatches {
    let matches: ClassMatches
    let predictionSamples: [Int]
    let matchSamples: [Int]

    init(_ matches: ClassMatches, index: [String: Int]) {
        self.matches = matches
        predictionSamples = matches.samples.map { index[$0] ?? -1 }
        matchSamples = matches.matchSamples.map { index[$0] ?? -1 }
    }

    /// The matches as they would be if sample i appeared `counts[i]` times in both sets (each copy
    /// under its own token). Copies of a prediction are matched alike and sit next to each other in
    /// score order, so repeating entries in place is exact.
    func repeated(_ counts: [Int]) -> ClassMatches {
        func times(_ sample: Int) -> Int { sample >= 0 ? counts[sample] : 0 }
        func repeatAll<T>(_ values: [T], _ samples: [Int]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(values.count)
            for (value, sample) in zip(values, samples) {
                for _ in 0..<times(sample) { out.append(value) }
            }
            return out
        }
        var out = ClassMatches()
        out.isTruePositive = repeatAll(matches.isTruePositive, predictionSamples)
        out.scores = repeatAll(matches.scores, predictionSamples)
        out.matchScores = repeatAll(matches.matchScores, matchSamples)
        out.matchErrors = matches.matchErrors.mapValues { repeatAll($0, matchSamples) }
        return out
    }
}
