/// Precision, confidence and TP errors on the 101-point recall grid for one class and threshold
/// (devkit `DetectionMetricData`).
public struct MetricData: Sendable, Equatable {
    public static let pointCount = 101

    public var recall: [Double]
    public var precision: [Double]
    public var confidence: [Double]
    /// Keyed by `DetectionConstants.tpMetricNames`.
    public var errors: [String: [Double]]

    /// `DetectionMetricData.no_predictions()`: zero precision and confidence, all errors 1.
    public static var noPredictions: MetricData {
        let ones = [Double](repeating: 1, count: pointCount)
        return MetricData(recall: NumpyMath.unitLinspace(pointCount), precision: [Double](repeating: 0, count: pointCount),
                          confidence: [Double](repeating: 0, count: pointCount),
                          errors: Dictionary(uniqueKeysWithValues: DetectionConstants.tpMetricNames.map { ($0, ones) }))
    }

    /// Index of the last non-zero confidence (the maximum recall reached), 0 when there is none
    /// (`max_recall_ind`).
    public var maxRecallIndex: Int { confidence.lastIndex { $0 != 0 } ?? 0 }
}

public enum Accumulate {
    /// The devkit's `accumulate`: match, then interpolate precision and confidence over recall and the
    /// cumulative-mean TP errors over confidence.
    public static func metricData(groundTruth: EvalBoxes, predictions: EvalBoxes, className: String,
                                  threshold: Double) -> MetricData {
        let positives = groundTruth.all.reduce(0) { $0 + ($1.detectionName == className ? 1 : 0) }
        guard positives > 0 else { return .noPredictions }
        return metricData(Matching.match(groundTruth: groundTruth, predictions: predictions, className: className,
                                         threshold: threshold), positives: positives)
    }

    /// `metricData` from matches already made, against `positives` ground-truth boxes of the class.
    static func metricData(_ matches: ClassMatches, positives: Int) -> MetricData {
        guard positives > 0, !matches.matchScores.isEmpty else { return .noPredictions }

        var truePositives = 0.0, falsePositives = 0.0
        var precision: [Double] = [], recall: [Double] = []
        for isMatch in matches.isTruePositive {
            if isMatch { truePositives += 1 } else { falsePositives += 1 }
            precision.append(truePositives / (falsePositives + truePositives))
            recall.append(truePositives / Double(positives))
        }
        let grid = NumpyMath.unitLinspace(MetricData.pointCount)
        let interpolatedPrecision = NumpyMath.interp(grid, recall, precision, right: 0)
        let confidence = NumpyMath.interp(grid, recall, matches.scores, right: 0)

        // Cumulative means of the errors, resampled at the grid's confidences (numpy needs increasing
        // abscissae, hence the reversals).
        let reversedConfidence = Array(confidence.reversed())
        let reversedMatchScores = Array(matches.matchScores.reversed())
        var errors: [String: [Double]] = [:]
        for name in DetectionConstants.tpMetricNames {
            let running = NumpyMath.cumulativeMean(matches.matchErrors[name] ?? [])
            errors[name] = Array(NumpyMath.interp(reversedConfidence, reversedMatchScores, Array(running.reversed())).reversed())
        }
        return MetricData(recall: grid, precision: interpolatedPrecision, confidence: confidence, errors: errors)
    }

    /// `calc_ap`: mean of (precision − min precision, clipped at 0) above the min-recall bin, over
    /// 1 − min precision.
    public static func averagePrecision(_ data: MetricData, minRecall: Double, minPrecision: Double) -> Double {
        let first = Int((100 * minRecall).rounded(.toNearestOrEven)) + 1
        guard first < data.precision.count else { return .nan }
        let clipped = data.precision[first...].map { Swift.max($0 - minPrecision, 0) }
        return NumpyMath.mean(ArraySlice(clipped)) / (1 - minPrecision)
    }

    /// `calc_tp`: mean error from just above the min-recall bin to the maximum recall reached; 1 when
    /// the maximum recall is not above the min recall.
    public static func tpError(_ data: MetricData, minRecall: Double, metric: String) -> Double {
        let first = Int((100 * minRecall).rounded(.toNearestOrEven)) + 1
        let last = data.maxRecallIndex
        guard last >= first, let values = data.errors[metric], last < values.count else { return 1 }
        return NumpyMath.mean(values[first...last])
    }
}
