/// The figures of the devkit's `metrics_summary.json` (`DetectionMetrics.serialize` plus `meta`).
public struct MetricsSummary: Sendable {
    public var config: DetectionConfig
    /// class -> distance threshold -> AP.
    public var labelAPs: [String: [Double: Double]]
    /// class -> TP metric -> error (NaN where the devkit sets NaN).
    public var labelTPErrors: [String: [String: Double]]
    /// Seconds spent matching and scoring.
    public var evalTime: Double
    /// The results file's `meta`.
    public var meta: JSONValue

    public init(config: DetectionConfig, labelAPs: [String: [Double: Double]], labelTPErrors: [String: [String: Double]],
                evalTime: Double, meta: JSONValue) {
        self.config = config; self.labelAPs = labelAPs; self.labelTPErrors = labelTPErrors
        self.evalTime = evalTime; self.meta = meta
    }

    /// Mean AP over the thresholds, per class.
    public var meanDistAPs: [String: Double] {
        labelAPs.mapValues { byThreshold in NumpyMath.mean(ArraySlice(config.distanceThresholds.compactMap { byThreshold[$0] })) }
    }

    public var meanAP: Double {
        let perClass = meanDistAPs
        return NumpyMath.mean(ArraySlice(config.classNames.compactMap { perClass[$0] }))
    }

    /// NaN-skipping mean over classes, per TP metric.
    public var tpErrors: [String: Double] {
        Dictionary(uniqueKeysWithValues: DetectionConstants.tpMetricNames.map { metric in
            (metric, NumpyMath.nanMean(config.classNames.compactMap { labelTPErrors[$0]?[metric] }))
        })
    }

    /// max(1 − error, 0) per metric; Python's `max(0.0, nan)` keeps 0, so a NaN error scores 0.
    public var tpScores: [String: Double] {
        tpErrors.mapValues { error in
            let score = 1 - error
            return score > 0 ? score : 0
        }
    }

    /// NDS = (weight · mAP + Σ TP scores) / (weight + number of TP metrics).
    public var ndScore: Double {
        let scores = tpScores
        let total = config.meanAPWeight * meanAP + DetectionConstants.tpMetricNames.reduce(0) { $0 + (scores[$1] ?? 0) }
        return total / (config.meanAPWeight + Double(DetectionConstants.tpMetricNames.count))
    }

    /// Every figure the devkit compares, under dotted names such as `label_aps.car.0.5`, `mean_ap`,
    /// `label_tp_errors.barrier.vel_err`, `tp_scores.attr_err`, `nd_score`.
    public var figures: [String: Double] {
        var out: [String: Double] = ["mean_ap": meanAP, "nd_score": ndScore]
        for (name, byThreshold) in labelAPs {
            for (threshold, ap) in byThreshold { out["label_aps.\(name).\(threshold)"] = ap }
        }
        for (name, value) in meanDistAPs { out["mean_dist_aps.\(name)"] = value }
        for (name, byMetric) in labelTPErrors {
            for (metric, value) in byMetric { out["label_tp_errors.\(name).\(metric)"] = value }
        }
        for (metric, value) in tpErrors { out["tp_errors.\(metric)"] = value }
        for (metric, value) in tpScores { out["tp_scores.\(metric)"] = value }
        return out
    }

    /// Dotted figures of a devkit `metrics_summary.json` (the same names as `figures`; `eval_time`, `cfg`
    /// and `meta` are not figures).
    public static func figures(ofDevkitSummary json: JSONValue) -> [String: Double] {
        var out: [String: Double] = [:]
        func walk(_ value: JSONValue, _ name: String) {
            switch value {
            case let .number(number): out[name] = number
            case .null: out[name] = .nan  // the null NaN convention
            case let .object(members):
                for (key, member) in members { walk(member, name.isEmpty ? key : "\(name).\(key)") }
            default: break
            }
        }
        if let members = json.object {
            for key in ["label_aps", "mean_dist_aps", "mean_ap", "label_tp_errors", "tp_errors", "tp_scores", "nd_score"] {
                if let member = members[key] { walk(member, key) }
            }
        }
        return out
    }
}
