/// One record type per nuScenes table, with the devkit's exact JSON field names
/// (`docs/schema_nuscenes.md`). Empty links (`prev`, `next`) are "".
/// Quaternions are [w, x, y, z]; translations and sizes are metres; timestamps are microseconds.
public protocol NuScenesRecord: Codable, Equatable, Sendable {
    /// The table's file stem: `<dataroot>/<version>/<tableName>.json`.
    static var tableName: String { get }
    var token: String { get }
}

public struct NuScenesCategory: NuScenesRecord {
    public static let tableName = "category"
    public var token: String
    public var name: String
    public var description: String
    public init(token: String, name: String, description: String) {
        self.token = token; self.name = name; self.description = description
    }
}

public struct NuScenesAttribute: NuScenesRecord {
    public static let tableName = "attribute"
    public var token: String
    public var name: String
    public var description: String
    public init(token: String, name: String, description: String) {
        self.token = token; self.name = name; self.description = description
    }
}

public struct NuScenesVisibility: NuScenesRecord {
    public static let tableName = "visibility"
    public var token: String
    public var level: String
    public var description: String
    public init(token: String, level: String, description: String) {
        self.token = token; self.level = level; self.description = description
    }
}

public struct NuScenesInstance: NuScenesRecord {
    public static let tableName = "instance"
    public var token: String
    public var category_token: String
    public var nbr_annotations: Int
    public var first_annotation_token: String
    public var last_annotation_token: String
    public init(token: String, category_token: String, nbr_annotations: Int,
                first_annotation_token: String, last_annotation_token: String) {
        self.token = token; self.category_token = category_token; self.nbr_annotations = nbr_annotations
        self.first_annotation_token = first_annotation_token; self.last_annotation_token = last_annotation_token
    }
}

public struct NuScenesSensor: NuScenesRecord {
    public static let tableName = "sensor"
    public var token: String
    public var channel: String
    /// "camera", "lidar" or "radar".
    public var modality: String
    public init(token: String, channel: String, modality: String) {
        self.token = token; self.channel = channel; self.modality = modality
    }
}

public struct NuScenesCalibratedSensor: NuScenesRecord {
    public static let tableName = "calibrated_sensor"
    public var token: String
    public var sensor_token: String
    /// Sensor -> ego.
    public var translation: [Double]
    public var rotation: [Double]
    /// 3x3 row-major rows for cameras; empty for other sensors.
    public var camera_intrinsic: [[Double]]
    public init(token: String, sensor_token: String, translation: [Double], rotation: [Double], camera_intrinsic: [[Double]]) {
        self.token = token; self.sensor_token = sensor_token; self.translation = translation
        self.rotation = rotation; self.camera_intrinsic = camera_intrinsic
    }
}

public struct NuScenesEgoPose: NuScenesRecord {
    public static let tableName = "ego_pose"
    public var token: String
    public var timestamp: Int64
    /// Ego -> global.
    public var rotation: [Double]
    public var translation: [Double]
    public init(token: String, timestamp: Int64, rotation: [Double], translation: [Double]) {
        self.token = token; self.timestamp = timestamp; self.rotation = rotation; self.translation = translation
    }
}

public struct NuScenesLog: NuScenesRecord {
    public static let tableName = "log"
    public var token: String
    public var logfile: String
    public var vehicle: String
    public var date_captured: String
    public var location: String
    public init(token: String, logfile: String, vehicle: String, date_captured: String, location: String) {
        self.token = token; self.logfile = logfile; self.vehicle = vehicle
        self.date_captured = date_captured; self.location = location
    }
}

public struct NuScenesScene: NuScenesRecord {
    public static let tableName = "scene"
    public var token: String
    public var log_token: String
    public var nbr_samples: Int
    public var first_sample_token: String
    public var last_sample_token: String
    public var name: String
    public var description: String
    public init(token: String, log_token: String, nbr_samples: Int, first_sample_token: String,
                last_sample_token: String, name: String, description: String) {
        self.token = token; self.log_token = log_token; self.nbr_samples = nbr_samples
        self.first_sample_token = first_sample_token; self.last_sample_token = last_sample_token
        self.name = name; self.description = description
    }
}

public struct NuScenesSample: NuScenesRecord {
    public static let tableName = "sample"
    public var token: String
    public var timestamp: Int64
    public var prev: String
    public var next: String
    public var scene_token: String
    public init(token: String, timestamp: Int64, prev: String, next: String, scene_token: String) {
        self.token = token; self.timestamp = timestamp; self.prev = prev; self.next = next; self.scene_token = scene_token
    }
}

public struct NuScenesSampleData: NuScenesRecord {
    public static let tableName = "sample_data"
    public var token: String
    public var sample_token: String
    public var ego_pose_token: String
    public var calibrated_sensor_token: String
    public var timestamp: Int64
    public var fileformat: String
    public var is_key_frame: Bool
    public var height: Int
    public var width: Int
    /// Relative to the dataroot, e.g. "samples/CAM_FRONT/....jpg".
    public var filename: String
    public var prev: String
    public var next: String
    public init(token: String, sample_token: String, ego_pose_token: String, calibrated_sensor_token: String,
                timestamp: Int64, fileformat: String, is_key_frame: Bool, height: Int, width: Int,
                filename: String, prev: String, next: String) {
        self.token = token; self.sample_token = sample_token; self.ego_pose_token = ego_pose_token
        self.calibrated_sensor_token = calibrated_sensor_token; self.timestamp = timestamp
        self.fileformat = fileformat; self.is_key_frame = is_key_frame; self.height = height; self.width = width
        self.filename = filename; self.prev = prev; self.next = next
    }
}

public struct NuScenesSampleAnnotation: NuScenesRecord {
    public static let tableName = "sample_annotation"
    public var token: String
    public var sample_token: String
    public var instance_token: String
    public var visibility_token: String
    public var attribute_tokens: [String]
    /// Box centre, global frame.
    public var translation: [Double]
    /// Width, length, height.
    public var size: [Double]
    /// Box -> global.
    public var rotation: [Double]
    public var prev: String
    public var next: String
    public var num_lidar_pts: Int
    public var num_radar_pts: Int
    public init(token: String, sample_token: String, instance_token: String, visibility_token: String,
                attribute_tokens: [String], translation: [Double], size: [Double], rotation: [Double],
                prev: String, next: String, num_lidar_pts: Int, num_radar_pts: Int) {
        self.token = token; self.sample_token = sample_token; self.instance_token = instance_token
        self.visibility_token = visibility_token; self.attribute_tokens = attribute_tokens
        self.translation = translation; self.size = size; self.rotation = rotation
        self.prev = prev; self.next = next; self.num_lidar_pts = num_lidar_pts; self.num_radar_pts = num_radar_pts
    }
}

public struct NuScenesMap: NuScenesRecord {
    public static let tableName = "map"
    public var token: String
    public var log_tokens: [String]
    public var category: String
    /// Relative to the dataroot; the devkit asserts the mask image exists.
    public var filename: String
    public init(token: String, log_tokens: [String], category: String, filename: String) {
        self.token = token; self.log_tokens = log_tokens; self.category = category; self.filename = filename
    }
}
