import Foundation

extension MetricsSummary {
    /// The devkit's printed summary: headline figures, then one row per class.
    public var devkitText: String {
        func f(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "nan" }
        let errors = tpErrors
        var lines = ["mAP: \(f(meanAP))"]
        for (metric, label) in zip(DetectionConstants.tpMetricNames, ["mATE", "mASE", "mAOE", "mAVE", "mAAE"]) {
            lines.append("\(label): \(f(errors[metric]))")
        }
        lines.append("NDS: \(f(ndScore))")
        lines.append("")
        lines.append(["Object Class".padding(toLength: 20, withPad: " ", startingAt: 0), "AP", "ATE", "ASE", "AOE", "AVE", "AAE"]
            .joined(separator: "\t"))
        let meanDist = meanDistAPs
        for name in config.classNames {
            let row = [meanDist[name]] + DetectionConstants.tpMetricNames.map { labelTPErrors[name]?[$0] }
            lines.append(([name.padding(toLength: 20, withPad: " ", startingAt: 0)]
                + row.map { $0.map { String(format: "%.3f", $0) } ?? "nan" }).joined(separator: "\t"))
        }
        return lines.joined(separator: "\n")
    }
}
