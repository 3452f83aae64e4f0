/// Names the nuScenes detection benchmark fixes (devkit `eval/detection/constants.py` and `utils.py`).
public enum DetectionConstants {
    /// The 10 detection classes, in the devkit's order (the order of `class_range` in the config).
    public static let detectionNames = [
        "car", "truck", "bus", "trailer", "construction_vehicle", "pedestrian", "motorcycle", "bicycle",
        "traffic_cone", "barrier",
    ]

    /// Attribute names a box may carry (or "").
    public static let attributeNames = [
        "pedestrian.moving", "pedestrian.sitting_lying_down", "pedestrian.standing", "cycle.with_rider",
        "cycle.without_rider", "vehicle.moving", "vehicle.parked", "vehicle.stopped",
    ]

    /// The true-positive error metrics, in the devkit's order (`TP_METRICS`).
    public static let tpMetricNames = ["trans_err", "scale_err", "orient_err", "vel_err", "attr_err"]

    /// The category of the annotations that remove bicycles and motorcycles inside them.
    public static let bicycleRackCategory = "static_object.bicycle_rack"

    /// The devkit's `category_to_detection_name`: nuScenes category -> detection class, nil for the rest
    /// (e.g. strollers, wheelchairs, animals, racks).
    public static func detectionName(forCategory category: String) -> String? {
        categoryToDetectionName[category]
    }

    private static let categoryToDetectionName: [String: String] = [
        "movable_object.barrier": "barrier",
        "vehicle.bicycle": "bicycle",
        "vehicle.bus.bendy": "bus",
        "vehicle.bus.rigid": "bus",
        "vehicle.car": "car",
        "vehicle.construction": "construction_vehicle",
        "vehicle.motorcycle": "motorcycle",
        "human.pedestrian.adult": "pedestrian",
        "human.pedestrian.child": "pedestrian",
        "human.pedestrian.construction_worker": "pedestrian",
        "human.pedestrian.police_officer": "pedestrian",
        "movable_object.trafficcone": "traffic_cone",
        "vehicle.trailer": "trailer",
        "vehicle.truck": "truck",
    ]
}
