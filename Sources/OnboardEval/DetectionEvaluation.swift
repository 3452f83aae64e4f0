import Foundation
import OnboardCore
import OnboardSensors

/// The nuScenes detection evaluation (devkit `DetectionEval.__init__` + `evaluate`).
public enum DetectionEvaluation {
    /// Evaluates `predictions` (already restricted to the split) against `groundTruth`.
    public static func evaluate(groundTruth: GroundTruth, predictions: EvalBoxes, meta: JSONValue = .object([:]),
                                config: DetectionConfig = .cvpr2019) -> MetricsSummary {
        let (truth, predicted) = filtered(groundTruth: groundTruth, predictions: predictions, config: config)
        let start = Date()
        var summary = summarize(config: config, meta: meta) { name, threshold in
            Accumulate.metricData(groundTruth: truth, predictions: predicted, className: name, threshold: threshold)
        }
        summary.evalTime = Date().timeIntervalSince(start)
        return summary
    }

    /// Both box sets with ego distances added and the devkit's range, point and bike-rack filters applied.
    static func filtered(groundTruth: GroundTruth, predictions: EvalBoxes,
                         config: DetectionConfig) -> (truth: EvalBoxes, predictions: EvalBoxes) {
        let predicted = Filters.filter(
            Filters.addCenterDistance(predictions, egoTranslations: groundTruth.egoTranslations),
            config: config, bicycleRacks: groundTruth.bicycleRacks)
        let truth = Filters.filter(
            Filters.addCenterDistance(groundTruth.boxes, egoTranslations: groundTruth.egoTranslations),
            config: config, bicycleRacks: groundTruth.bicycleRacks)
        return (truth, predicted)
    }

    /// APs per class and threshold and TP errors per class, from `data(class, threshold)`.
    static func summarize(config: DetectionConfig, meta: JSONValue,
                          data: (String, Double) -> MetricData) -> MetricsSummary {
        var labelAPs: [String: [Double: Double]] = [:]
        var labelTPErrors: [String: [String: Double]] = [:]
        for name in config.classNames {
            var tpData: MetricData?
            for threshold in config.distanceThresholds {
                let metricData = data(name, threshold)
                labelAPs[name, default: [:]][threshold] = Accumulate.averagePrecision(
                    metricData, minRecall: config.minRecall, minPrecision: config.minPrecision)
                if threshold == config.tpDistanceThreshold { tpData = metricData }
            }
            let tp = tpData ?? data(name, config.tpDistanceThreshold)
            for metric in DetectionConstants.tpMetricNames {
                labelTPErrors[name, default: [:]][metric] = isUndefined(metric: metric, className: name)
                    ? .nan : Accumulate.tpError(tp, minRecall: config.minRecall, metric: metric)
            }
        }
        return MetricsSummary(config: config, labelAPs: labelAPs, labelTPErrors: labelTPErrors, evalTime: 0, meta: meta)
    }

    /// Cones have no orientation, velocity or attribute; barriers no velocity or attribute.
    public static func isUndefined(metric: String, className: String) -> Bool {
        switch className {
        case "traffic_cone": return ["attr_err", "vel_err", "orient_err"].contains(metric)
        case "barrier": return ["attr_err", "vel_err"].contains(metric)
        default: return false
        }
    }

    /// Loads the tables at `dataroot/version`, the custom split and the results file, and evaluates.
    public static func evaluate(dataroot: String, version: String, split: String, resultsPath: String,
                                config: DetectionConfig = .cvpr2019) throws -> MetricsSummary {
        let inputs = try EvaluationInputs(dataroot: dataroot, version: version, split: split,
                                          resultsPath: resultsPath, config: config)
        return evaluate(groundTruth: inputs.groundTruth, predictions: inputs.predictions, meta: inputs.meta, config: config)
    }
}

/// Everything an evaluation reads, loaded and validated (a bad input throws before any work).
public struct EvaluationInputs: Sendable {
    public var groundTruth: GroundTruth
    /// The results of the split's samples.
    public var predictions: EvalBoxes
    /// The results file's `meta`.
    public var meta: JSONValue
    /// Samples of the results file outside a custom split, left out as the devkit does.
    public var samplesOutsideSplit: Int

    public init(dataroot: String, version: String, split: String, resultsPath: String,
                config: DetectionConfig = .cvpr2019) throws {
        let tables = try NuScenesTables(dataroot: dataroot, version: version)
        groundTruth = try GroundTruth(tables: tables, split: split)
        let results = try ResultsReader.read(path: resultsPath, maxBoxesPerSample: config.maxBoxesPerSample)
        predictions = try results.boxes(forSplit: groundTruth.sampleTokens, named: split, path: resultsPath)
        samplesOutsideSplit = results.outside(split: groundTruth.sampleTokens).count
        meta = results.meta
    }
}
