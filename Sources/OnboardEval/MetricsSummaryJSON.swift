import OnboardCore

/// Writes a `MetricsSummary` in the layout of the devkit's `metrics_summary.json` (`json.dump(indent=2)`):
/// keys `label_aps, mean_dist_aps, mean_ap, label_tp_errors, tp_errors, tp_scores, nd_score, eval_time,
/// cfg, meta` in that order, classes in config order. Non-finite numbers are written as Python's json
/// module writes them: `NaN`, `Infinity`, `-Infinity`.
extension MetricsSummary {
    public var jsonText: String {
        let classes = config.classNames
        let metrics = DetectionConstants.tpMetricNames
        func nested(_ outer: [String], _ inner: (String) -> [(String, JSONOut)]) -> JSONOut {
            .object(outer.map { ($0, .object(inner($0))) })
        }
        let meanDist = meanDistAPs, errors = tpErrors, scores = tpScores
        let cfg: JSONOut = .object([
            ("class_range", .object(config.classRange.map { ($0.name, $0.range == $0.range.rounded() ? .integer(Int($0.range)) : .number($0.range)) })),
            ("dist_fcn", .string("center_distance")),
            ("dist_ths", .array(config.distanceThresholds.map { .number($0) })),
            ("dist_th_tp", .number(config.tpDistanceThreshold)),
            ("min_recall", .number(config.minRecall)),
            ("min_precision", .number(config.minPrecision)),
            ("max_boxes_per_sample", .integer(config.maxBoxesPerSample)),
            ("mean_ap_weight", config.meanAPWeight == config.meanAPWeight.rounded() ? .integer(Int(config.meanAPWeight)) : .number(config.meanAPWeight)),
        ])
        let document: JSONOut = .object([
            ("label_aps", nested(classes) { name in
                self.config.distanceThresholds.map { ("\($0)", .number(self.labelAPs[name]?[$0] ?? .nan)) }
            }),
            ("mean_dist_aps", .object(classes.map { ($0, .number(meanDist[$0] ?? .nan)) })),
            ("mean_ap", .number(meanAP)),
            ("label_tp_errors", nested(classes) { name in
                metrics.map { ($0, .number(self.labelTPErrors[name]?[$0] ?? .nan)) }
            }),
            ("tp_errors", .object(metrics.map { ($0, .number(errors[$0] ?? .nan)) })),
            ("tp_scores", .object(metrics.map { ($0, .number(scores[$0] ?? .nan)) })),
            ("nd_score", .number(ndScore)),
            ("eval_time", .number(evalTime)),
            ("cfg", cfg),
            ("meta", JSONOut(meta)),
        ])
        var text = ""
        document.write(to: &text, indent: 0)
        return text + "\n"
    }

    /// Writes `jsonText` atomically.
    public func write(to path: String) throws {
        try AtomicFile(path: path).write(string: jsonText)
    }
}

/// Ordered JSON for writing.
enum JSONOut {
    case null, bool(Bool), number(Double), integer(Int), string(String)
    case array([JSONOut])
    case object([(String, JSONOut)])

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case let .bool(flag): self = .bool(flag)
        case let .number(number): self = .number(number)
        case let .string(text): self = .string(text)
        case let .array(elements): self = .array(elements.map(JSONOut.init))
        case let .object(members): self = .object(members.keys.sorted().map { ($0, JSONOut(members[$0] ?? .null)) })
        }
    }

    /// Shortest round-trip digits (as Python's float repr), Python's tokens for non-finite values.
    static func numberText(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return "\(value)"
    }

    func write(to out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent + 2), closing = String(repeating: " ", count: indent)
        switch self {
        case .null: out += "null"
        case let .bool(flag): out += flag ? "true" : "false"
        case let .number(value): out += Self.numberText(value)
        case let .integer(value): out += "\(value)"
        case let .string(text): out += JSONText.quoted(text)
        case let .array(elements):
            guard !elements.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (i, element) in elements.enumerated() {
                out += pad
                element.write(to: &out, indent: indent + 2)
                out += i + 1 < elements.count ? ",\n" : "\n"
            }
            out += closing + "]"
        case let .object(members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += pad + JSONText.quoted(key) + ": "
                value.write(to: &out, indent: indent + 2)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += closing + "}"
        }
    }
}
