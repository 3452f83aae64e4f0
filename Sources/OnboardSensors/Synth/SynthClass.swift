/// The ten nuScenes detection classes as the synthesiser draws them.
public enum SynthClass: Int, CaseIterable, Sendable {
    case car, truck, constructionVehicle, bus, trailer, barrier, motorcycle, bicycle, pedestrian, trafficCone

    /// The nuScenes category the devkit maps to this detection class.
    public var categoryName: String {
        switch self {
        case .car: return "vehicle.car"
        case .truck: return "vehicle.truck"
        case .constructionVehicle: return "vehicle.construction"
        case .bus: return "vehicle.bus.rigid"
        case .trailer: return "vehicle.trailer"
        case .barrier: return "movable_object.barrier"
        case .motorcycle: return "vehicle.motorcycle"
        case .bicycle: return "vehicle.bicycle"
        case .pedestrian: return "human.pedestrian.adult"
        case .trafficCone: return "movable_object.trafficcone"
        }
    }

    /// Typical (width, length, height) in metres, close to the nuScenes class means.
    public var typicalSize: SIMD3<Double> {
        switch self {
        case .car: return [1.95, 4.62, 1.73]
        case .truck: return [2.52, 6.94, 2.84]
        case .constructionVehicle: return [2.82, 6.56, 3.20]
        case .bus: return [2.95, 11.19, 3.49]
        case .trailer: return [2.92, 12.28, 3.87]
        case .barrier: return [2.51, 0.50, 0.98]
        case .motorcycle: return [0.77, 2.11, 1.47]
        case .bicycle: return [0.61, 1.70, 1.30]
        case .pedestrian: return [0.67, 0.73, 1.77]
        case .trafficCone: return [0.41, 0.41, 1.07]
        }
    }

    /// The devkit's class range (detection_cvpr_2019), metres from the ego.
    public var evaluationRange: Double {
        switch self {
        case .car, .truck, .bus, .trailer, .constructionVehicle: return 50
        case .pedestrian, .motorcycle, .bicycle: return 40
        case .trafficCone, .barrier: return 30
        }
    }

    /// Largest speed drawn, m/s (0 for static classes).
    public var maxSpeed: Double {
        switch self {
        case .car: return 12
        case .truck, .bus, .trailer: return 9
        case .constructionVehicle: return 3
        case .motorcycle: return 10
        case .bicycle: return 6
        case .pedestrian: return 1.6
        case .barrier, .trafficCone: return 0
        }
    }

    /// The attribute nuScenes annotators give at `speed` (none for barriers and cones).
    public func attributeName(speed: Double) -> String? {
        let moving = speed > 0.2
        switch self {
        case .car, .truck, .constructionVehicle, .bus, .trailer: return moving ? "vehicle.moving" : "vehicle.parked"
        case .motorcycle, .bicycle: return moving ? "cycle.with_rider" : "cycle.without_rider"
        case .pedestrian: return moving ? "pedestrian.moving" : "pedestrian.standing"
        case .barrier, .trafficCone: return nil
        }
    }

    /// Base colour (RGB); instances vary around it.
    var baseColor: SIMD3<Double> {
        switch self {
        case .car: return [150, 40, 40]
        case .truck: return [70, 90, 150]
        case .constructionVehicle: return [225, 180, 30]
        case .bus: return [210, 210, 200]
        case .trailer: return [120, 120, 110]
        case .barrier: return [200, 40, 40]
        case .motorcycle: return [40, 40, 50]
        case .bicycle: return [30, 120, 60]
        case .pedestrian: return [60, 80, 160]
        case .trafficCone: return [245, 120, 20]
        }
    }
}

/// The eight nuScenes attributes, in the dataset's table order.
public let nuScenesAttributeNames = [
    "vehicle.moving", "vehicle.stopped", "vehicle.parked", "cycle.with_rider", "cycle.without_rider",
    "pedestrian.sitting_lying_down", "pedestrian.standing", "pedestrian.moving",
]

/// nuScenes visibility bins: token, level (fraction of the object visible in the six images).
public let nuScenesVisibilityLevels: [(token: String, level: String, description: String)] = [
    ("1", "v0-40", "visibility of whole object is between 0 and 40%"),
    ("2", "v40-60", "visibility of whole object is between 40 and 60%"),
    ("3", "v60-80", "visibility of whole object is between 60 and 80%"),
    ("4", "v80-100", "visibility of whole object is between 80 and 100%"),
]
