import Foundation
import OnboardCore

/// A camera rig: channels, image size, intrinsics and sensor -> ego extrinsics, plus the LIDAR_TOP
/// mounting (the frame PETR's lidar2img maps from). Loaded from `Sensors/<name>.json`.
public struct CameraRig: Codable, Equatable, Sendable {
    public struct Camera: Codable, Equatable, Sendable {
        public var channel: String
        /// 3x3 pinhole matrix rows.
        public var intrinsic: [[Double]]
        public var translation: [Double]
        /// Camera -> ego, [w, x, y, z]; the camera looks along +z with +y down (OpenCV convention).
        public var rotation: [Double]
    }

    public struct Mount: Codable, Equatable, Sendable {
        public var translation: [Double]
        public var rotation: [Double]
    }

    public var name: String
    public var description: String?
    public var image_width: Int
    public var image_height: Int
    public var cameras: [Camera]
    public var lidar: Mount

    /// Loads and validates a rig file; a bare name resolves to `Sensors/<name>.json` under `searchRoot`.
    public init(path: String) throws {
        let data = try InputFile.read(path, what: "rig file")
        self = try JSONInput.decode(CameraRig.self, from: data, path: path)
        try validate(path: path)
    }

    /// `name` as a path when it is a file, else `<root>/Sensors/<name>.json`.
    public static func resolve(_ name: String, root: String) -> String {
        if FileManager.default.fileExists(atPath: name) { return name }
        let stem = name.hasSuffix(".json") ? name : "\(name).json"
        return ((root as NSString).appendingPathComponent("Sensors") as NSString).appendingPathComponent(stem)
    }

    public func validate(path: String) throws {
        func fail(_ item: String, _ reason: String) -> OnboardError { .format(path: path, item: item, reason: reason) }
        guard image_width > 0, image_height > 0, image_width <= 16384, image_height <= 16384 else {
            throw fail("image size", "must be 1...16384 pixels, got \(image_width)x\(image_height)")
        }
        guard !cameras.isEmpty else { throw fail("cameras", "a rig needs at least one camera") }
        var seen = Set<String>()
        for camera in cameras {
            guard !camera.channel.isEmpty, seen.insert(camera.channel).inserted else {
                throw fail(camera.channel, "empty or repeated channel name")
            }
            guard camera.channel != "LIDAR_TOP" else { throw fail(camera.channel, "reserved for the lidar") }
            let k = camera.intrinsic
            guard k.count == 3, k.allSatisfy({ $0.count == 3 && $0.allFinite }),
                  k[0][0] > 0, k[1][1] > 0, k[2] == [0, 0, 1], k[1][0] == 0, k[0][1] == 0 else {
                throw fail("\(camera.channel).intrinsic", "must be [[fx,0,cx],[0,fy,cy],[0,0,1]] with fx, fy > 0")
            }
            _ = try RigidTransform(nuScenesRotation: camera.rotation, translation: camera.translation,
                                   item: "\(path): \(camera.channel)")
        }
        _ = try RigidTransform(nuScenesRotation: lidar.rotation, translation: lidar.translation, item: "\(path): lidar")
    }

    public func cameraToEgo(_ camera: Camera) throws -> RigidTransform {
        try RigidTransform(nuScenesRotation: camera.rotation, translation: camera.translation, item: camera.channel)
    }

    public func lidarToEgo() throws -> RigidTransform {
        try RigidTransform(nuScenesRotation: lidar.rotation, translation: lidar.translation, item: "lidar")
    }
}
