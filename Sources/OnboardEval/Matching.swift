/// The greedy matching of `accumulate` (devkit `eval/detection/algo.py`) for one class and threshold.
struct ClassMatches {
    /// Per prediction in descending-score order: whether it matched a ground-truth box.
    var isTruePositive: [Bool] = []
    /// Scores in the same order.
    var scores: [Double] = []
    /// Sample tokens in the same order.
    var samples: [String] = []
    /// Per match, in the same order: the TP errors keyed by `DetectionConstants.tpMetricNames`, and the score.
    var matchErrors: [String: [Double]] = [:]
    var matchScores: [Double] = []
    var matchSamples: [String] = []
}

enum Matching {
    /// Predictions of `className` visited by descending score, ties by descending position in
    /// `predictions.all` (the devkit sorts (score, index) pairs and reverses). Each takes the nearest
    /// untaken ground-truth box of the class in its sample (first one on equal distance) when nearer
    /// than `threshold`.
    static func match(groundTruth: EvalBoxes, predictions: EvalBoxes, className: String,
                      threshold: Double) -> ClassMatches {
        let candidates = predictions.all.filter { $0.detectionName == className }
        let order = candidates.indices.sorted { a, b in
            let sa = candidates[a].detectionScore, sb = candidates[b].detectionScore
            return sa != sb ? sa > sb : a > b
        }
        var result = ClassMatches()
        for name in DetectionConstants.tpMetricNames { result.matchErrors[name] = [] }
        var taken: [String: [Bool]] = [:]  // per sample, per ground-truth box
        for index in order {
            let pred = candidates[index]
            let gtBoxes = groundTruth[pred.sampleToken]
            let takenInSample = taken[pred.sampleToken] ?? [Bool](repeating: false, count: gtBoxes.count)
            var minDistance = Double.infinity
            var matchIndex: Int?
            for (gtIndex, gt) in gtBoxes.enumerated() where gt.detectionName == className && !takenInSample[gtIndex] {
                let distance = BoxErrors.centerDistance(gt, pred)
                if distance < minDistance {
                    minDistance = distance
                    matchIndex = gtIndex
                }
            }
            result.scores.append(pred.detectionScore)
            result.samples.append(pred.sampleToken)
            guard let matchIndex, minDistance < threshold else {
                result.isTruePositive.append(false)
                continue
            }
            taken[pred.sampleToken, default: takenInSample][matchIndex] = true
            result.isTruePositive.append(true)
            let gt = gtBoxes[matchIndex]
            // Barrier orientation is only defined up to 180 degrees.
            let period = className == "barrier" ? Double.pi : 2 * Double.pi
            result.matchErrors["trans_err", default: []].append(BoxErrors.centerDistance(gt, pred))
            result.matchErrors["vel_err", default: []].append(BoxErrors.velocityL2(gt, pred))
            result.matchErrors["scale_err", default: []].append(1 - BoxErrors.scaleIoU(gt, pred))
            result.matchErrors["orient_err", default: []].append(BoxErrors.yawDifference(gt, pred, period: period))
            result.matchErrors["attr_err", default: []].append(BoxErrors.attributeError(gt, pred))
            result.matchScores.append(pred.detectionScore)
            result.matchSamples.append(pred.sampleToken)
        }
        return result
    }
}
