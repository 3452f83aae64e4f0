import Foundation
import OnboardSensors

/// One entry of a nuScenes detection submission (global frame).
public struct SubmissionBox: Sendable, Equatable {
    public var sampleToken: String
    public var translation: SIMD3<Double>
    public var size: SIMD3<Double>
    public var rotation: Quaternion
    public var velocity: SIMD2<Double>
    public var detectionName: String
    public var detectionScore: Double
    public var attributeName: String
}

/// mmdet3d 0.17's `output_to_nusc_box` + `lidar_nusc_box_to_global` + `_format_bbox`: lidar-frame
/// boxes to the global frame, dropping boxes beyond their class range (ego-frame xy radius), with
/// its attribute rules.
public enum DetectionExport {
    public static func submission(sampleToken: String, boxes: [LidarBox], classNames: [String],
                                  lidarToEgo: RigidTransform, egoToGlobal: RigidTransform) -> [SubmissionBox] {
        let lidarToGlobal = egoToGlobal.composed(after: lidarToEgo)
        return boxes.compactMap { box in
            guard classNames.indices.contains(box.label) else { return nil }
            let name = classNames[box.label]
            let centreEgo = lidarToEgo.apply(box.gravityCenter)
            let range = DetectionConfig.cvpr2019.classRange.first { $0.name == name }?.range ?? 0
            guard (centreEgo.x * centreEgo.x + centreEgo.y * centreEgo.y).squareRoot() <= range else { return nil }
            let rotation = lidarToGlobal.rotation * Quaternion(yaw: box.nuScenesYaw).matrix
            let velocity = lidarToGlobal.rotation * SIMD3(box.vx, box.vy, 0)
            return SubmissionBox(
                sampleToken: sampleToken, translation: egoToGlobal.apply(centreEgo),
                size: SIMD3(box.width, box.length, box.height), rotation: Quaternion(rotationMatrix: rotation),
                velocity: SIMD2(velocity.x, velocity.y), detectionName: name, detectionScore: box.score,
                attributeName: attribute(name: name, speed: (velocity.x * velocity.x + velocity.y * velocity.y).squareRoot()))
        }
    }

    /// mmdet3d `NuScenesDataset._format_bbox`'s attribute choice.
    public static func attribute(name: String, speed: Double) -> String {
        if speed > 0.2 {
            if ["car", "construction_vehicle", "bus", "truck", "trailer"].contains(name) { return "vehicle.moving" }
            if ["bicycle", "motorcycle"].contains(name) { return "cycle.with_rider" }
        } else {
            if name == "pedestrian" { return "pedestrian.standing" }
            if name == "bus" { return "vehicle.stopped" }
        }
        return defaultAttribute[name] ?? ""
    }

    /// mmdet3d's `NuScenesDataset.DefaultAttribute`.
    static let defaultAttribute = [
        "car": "vehicle.parked", "pedestrian": "pedestrian.moving", "trailer": "vehicle.parked",
        "truck": "vehicle.parked", "bus": "vehicle.moving", "motorcycle": "cycle.without_rider",
        "construction_vehicle": "vehicle.parked", "bicycle": "cycle.without_rider", "barrier": "", "traffic_cone": "",
    ]
}
