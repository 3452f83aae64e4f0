import Foundation
import OnboardEval
import OnboardSensors

/// One sample's pictures for the demo report: bird's-eye view and the six camera images with the
/// predicted boxes and the ground truth projected.
enum DemoPictures {
    static func write(sample: CameraSample, frame: DetectionPipeline.Frame, classNames: [String], to directory: String) throws {
        let predictions = frame.boxes.map {
            RenderBox(center: $0.gravityCenter, size: SIMD3($0.width, $0.length, $0.height), yaw: $0.yaw,
                      label: $0.label, score: $0.score, isGroundTruth: false)
        }
        let cameras = try sample.cameras.map { try RenderCamera(name: $0.channel, path: $0.path, lidarToImage: $0.lidarToImage) }
        let style = RenderStyle(classNames: classNames)
        try DemoGallery.write(title: "sample \(sample.token)", boxes: groundTruth(sample, classNames: classNames) + predictions,
                              cameras: cameras, style: style, to: directory)
    }

    /// The sample's annotated boxes of the detection classes, moved into its LIDAR_TOP frame.
    static func groundTruth(_ sample: CameraSample, classNames: [String]) -> [RenderBox] {
        let globalToLidar = sample.egoToGlobal.composed(after: sample.lidarToEgo).inverse
        return sample.boxes.compactMap { box in
            guard box.numLidarPoints + box.numRadarPoints > 0,
                  let name = DetectionConstants.detectionName(forCategory: box.categoryName),
                  let label = classNames.firstIndex(of: name) else { return nil }
            let rotation = globalToLidar.rotation * box.rotation.matrix
            return RenderBox(center: globalToLidar.apply(box.center), size: box.size, heading: atan2(rotation[1, 0], rotation[0, 0]),
                             label: label, isGroundTruth: true)
        }
    }
}
