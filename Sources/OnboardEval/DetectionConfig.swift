/// The evaluation settings (devkit `DetectionConfig`); `cvpr2019` is `configs/detection_cvpr_2019.json`.
public struct DetectionConfig: Sendable, Equatable {
    /// Evaluation radius in metres per class (xy distance to the ego pose), in class order.
    public var classRange: [(name: String, range: Double)]
    /// Match thresholds on the xy centre distance, metres.
    public var distanceThresholds: [Double]
    /// The threshold whose matches the TP errors use.
    public var tpDistanceThreshold: Double
    public var minRecall: Double
    public var minPrecision: Double
    public var maxBoxesPerSample: Int
    public var meanAPWeight: Double

    public static let cvpr2019 = DetectionConfig(
        classRange: [
            ("car", 50), ("truck", 50), ("bus", 50), ("trailer", 50), ("construction_vehicle", 50),
            ("pedestrian", 40), ("motorcycle", 40), ("bicycle", 40), ("traffic_cone", 30), ("barrier", 30),
        ],
        distanceThresholds: [0.5, 1.0, 2.0, 4.0], tpDistanceThreshold: 2.0, minRecall: 0.1, minPrecision: 0.1,
        maxBoxesPerSample: 500, meanAPWeight: 5)

    public var classNames: [String] { classRange.map(\.name) }

    public func range(of detectionName: String) -> Double? {
        classRange.first { $0.name == detectionName }?.range
    }

    public static func == (lhs: DetectionConfig, rhs: DetectionConfig) -> Bool {
        lhs.classRange.map(\.name) == rhs.classRange.map(\.name) && lhs.classRange.map(\.range) == rhs.classRange.map(\.range)
            && lhs.distanceThresholds == rhs.distanceThresholds && lhs.tpDistanceThreshold == rhs.tpDistanceThreshold
            && lhs.minRecall == rhs.minRecall && lhs.minPrecision == rhs.minPrecision
            && lhs.maxBoxesPerSample == rhs.maxBoxesPerSample && lhs.meanAPWeight == rhs.meanAPWeight
    }
}
