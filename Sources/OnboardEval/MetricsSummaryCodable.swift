/// `MetricsSummary` as a Codable value under the keys of the devkit's `metrics_summary.json` (those
/// `onboard eval` writes): `label_aps` (class -> threshold text such as "0.5" -> AP), `mean_dist_aps`,
/// `mean_ap`, `label_tp_errors`, `tp_errors`, `tp_scores`, `nd_score`, `eval_time`, `cfg`, `meta`.
/// Decoding reads the stored figures (`label_aps`, `label_tp_errors`, `eval_time`, `cfg`, `meta`) and
/// recomputes the derived ones. NaN figures need an encoder/decoder with a non-conforming float strategy
/// (see `ValidationReport.encoder`).
extension MetricsSummary: Codable {
    enum CodingKeys: String, CodingKey {
        case labelAPs = "label_aps", meanDistAPs = "mean_dist_aps", meanAP = "mean_ap", labelTPErrors = "label_tp_errors"
        case tpErrors = "tp_errors", tpScores = "tp_scores", ndScore = "nd_score", evalTime = "eval_time", cfg, meta
    }

    /// The `cfg` object of the summary (devkit `DetectionConfig.serialize`).
    struct ConfigKeys: Codable {
        let classRange: [String: Double]
        let distFcn: String
        let distThs: [Double]
        let distThTP: Double
        let minRecall: Double
        let minPrecision: Double
        let maxBoxesPerSample: Int
        let meanAPWeight: Double

        enum CodingKeys: String, CodingKey {
            case classRange = "class_range", distFcn = "dist_fcn", distThs = "dist_ths", distThTP = "dist_th_tp"
            case minRecall = "min_recall", minPrecision = "min_precision", maxBoxesPerSample = "max_boxes_per_sample"
            case meanAPWeight = "mean_ap_weight"
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let thresholdAPs = labelAPs.mapValues { byThreshold in
            Dictionary(uniqueKeysWithValues: byThreshold.map { ("\($0.key)", $0.value) })
        }
        try container.encode(thresholdAPs, forKey: .labelAPs)
        try container.encode(meanDistAPs, forKey: .meanDistAPs)
        try container.encode(meanAP, forKey: .meanAP)
        try container.encode(labelTPErrors, forKey: .labelTPErrors)
        try container.encode(tpErrors, forKey: .tpErrors)
        try container.encode(tpScores, forKey: .tpScores)
        try container.encode(ndScore, forKey: .ndScore)
        try container.encode(evalTime, forKey: .evalTime)
        try container.encode(ConfigKeys(
            classRange: Dictionary(uniqueKeysWithValues: config.classRange.map { ($0.name, $0.range) }),
            distFcn: "center_distance", distThs: config.distanceThresholds, distThTP: config.tpDistanceThreshold,
            minRecall: config.minRecall, minPrecision: config.minPrecision, maxBoxesPerSample: config.maxBoxesPerSample,
            meanAPWeight: config.meanAPWeight), forKey: .cfg)
        try container.encode(meta, forKey: .meta)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let cfg = try container.decode(ConfigKeys.self, forKey: .cfg)
        // JSON objects carry no order: classes in the devkit's order, any others after them by name.
        let known = DetectionConstants.detectionNames
        let names = cfg.classRange.keys.sorted { a, b in
            (known.firstIndex(of: a) ?? known.count, a) < (known.firstIndex(of: b) ?? known.count, b)
        }
        let config = DetectionConfig(
            classRange: names.map { ($0, cfg.classRange[$0] ?? 0) }, distanceThresholds: cfg.distThs,
            tpDistanceThreshold: cfg.distThTP, minRecall: cfg.minRecall, minPrecision: cfg.minPrecision,
            maxBoxesPerSample: cfg.maxBoxesPerSample, meanAPWeight: cfg.meanAPWeight)
        let texts = try container.decode([String: [String: Double]].self, forKey: .labelAPs)
        var labelAPs: [String: [Double: Double]] = [:]
        for (name, byThreshold) in texts {
            var parsed: [Double: Double] = [:]
            for (text, ap) in byThreshold {
                guard let threshold = Double(text) else {
                    throw DecodingError.dataCorruptedError(forKey: .labelAPs, in: container,
                                                           debugDescription: "\(name): threshold '\(text)' is not a number")
                }
                parsed[threshold] = ap
            }
            labelAPs[name] = parsed
        }
        self.init(config: config, labelAPs: labelAPs,
                  labelTPErrors: try container.decode([String: [String: Double]].self, forKey: .labelTPErrors),
                  evalTime: try container.decode(Double.self, forKey: .evalTime),
                  meta: try container.decodeIfPresent(JSONValue.self, forKey: .meta) ?? .null)
    }
}

/// JSON values as Codable values (for `meta`).
extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(flag): try container.encode(flag)
        case let .number(number): try container.encode(number)
        case let .string(text): try container.encode(text)
        case let .array(elements): try container.encode(elements)
        case let .object(members): try container.encode(members)
        }
    }
}
