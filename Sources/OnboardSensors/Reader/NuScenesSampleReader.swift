import Foundation
import OnboardCore

/// Reads key-frame samples of a nuScenes-layout set as PETR's pipeline does: per-camera geometry,
/// ego pose, ground truth, and preprocessed [N_cam, 3, H, W] image tensors.
public struct NuScenesSampleReader: Sendable {
    /// PETR's camera order.
    public static let petrChannels = ["CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT",
                                      "CAM_BACK", "CAM_BACK_LEFT", "CAM_BACK_RIGHT"]

    public let tables: NuScenesTables
    public let channels: [String]
    public let preprocessing: PETRPreprocessing
    /// Leave out samples with a bad table link or image (warning on stderr) instead of failing.
    public let skipBad: Bool

    public init(tables: NuScenesTables, channels: [String] = NuScenesSampleReader.petrChannels,
                preprocessing: PETRPreprocessing = .vovnet800x320, skipBad: Bool = false) throws {
        try preprocessing.validate()
        guard !channels.isEmpty else { throw OnboardError.invalidArgument("no camera channels requested") }
        self.tables = tables; self.channels = channels; self.preprocessing = preprocessing; self.skipBad = skipBad
    }

    /// The result of reading sample metadata: the samples kept and the ones left out with why.
    public struct Listing: Sendable {
        public var samples: [CameraSample] = []
        public var skipped: [(token: String, reason: String)] = []
    }

    /// Samples of `tokens` (default: every sample, scenes in table order, time order within).
    public func samples(tokens: [String]? = nil) throws -> Listing {
        var listing = Listing()
        for token in tables.sampleOrder(tokens) {
            do {
                listing.samples.append(try sample(token))
            } catch let error as OnboardError where skipBad {
                listing.skipped.append((token, error.description))
                warn("skipping sample \(token): \(error.description)")
            }
        }
        return listing
    }

    public func sample(_ token: String) throws -> CameraSample {
        let directory = tables.tablesDirectory
        func fail(_ reason: String) -> OnboardError { .format(path: directory, item: "sample \(token)", reason: reason) }
        guard let record = tables.sample[token] else { throw fail("not in sample.json") }
        guard let lidar = tables.keyFrame(ofSample: token, channel: "LIDAR_TOP"),
              let lidarPose = tables.egoPose[lidar.ego_pose_token],
              let lidarCalibration = tables.calibratedSensor[lidar.calibrated_sensor_token] else {
            throw fail("no LIDAR_TOP key frame")
        }
        let lidarToEgo = try transform(lidarCalibration)
        let egoToGlobal = try transform(lidarPose)
        var cameras: [CameraFrame] = []
        for channel in channels {
            guard let data = tables.keyFrame(ofSample: token, channel: channel) else { throw fail("no \(channel) key frame") }
            cameras.append(try frame(data, channel: channel, lidarToEgo: lidarToEgo, lidarEgoToGlobal: egoToGlobal, sample: token))
        }
        let boxes = try tables.annotations(ofSample: token).map { try box($0) }
        return CameraSample(token: token, sceneToken: record.scene_token, timestamp: record.timestamp, cameras: cameras,
                            lidarToEgo: lidarToEgo, egoToGlobal: egoToGlobal, boxes: boxes)
    }

    func frame(_ data: NuScenesSampleData, channel: String, lidarToEgo: RigidTransform,
               lidarEgoToGlobal: RigidTransform, sample: String) throws -> CameraFrame {
        let item = "sample \(sample) \(channel)"
        guard let calibration = tables.calibratedSensor[data.calibrated_sensor_token],
              let pose = tables.egoPose[data.ego_pose_token] else {
            throw OnboardError.format(path: tables.tablesDirectory, item: item, reason: "dangling calibration or ego pose")
        }
        let k = calibration.camera_intrinsic
        func badIntrinsic(_ reason: String) -> OnboardError {
            .format(path: tablePath(NuScenesCalibratedSensor.self), item: "calibrated_sensor \(calibration.token) camera_intrinsic",
                    reason: "\(reason), got \(k) (used by \(item))")
        }
        guard k.count == 3, k.allSatisfy({ $0.count == 3 && $0.allFinite }) else {
            throw badIntrinsic("must be a 3x3 matrix of finite numbers")
        }
        guard k[0][0] > 0, k[1][1] > 0 else { throw badIntrinsic("focal lengths fx and fy must be > 0") }
        let determinant = k[0][0] * (k[1][1] * k[2][2] - k[1][2] * k[2][1]) - k[0][1] * (k[1][0] * k[2][2] - k[1][2] * k[2][0])
            + k[0][2] * (k[1][0] * k[2][1] - k[1][1] * k[2][0])
        guard abs(determinant) > 1e-9 else { throw badIntrinsic("the matrix is singular") }
        guard data.width > 0, data.height > 0 else {
            throw OnboardError.format(path: tables.tablesDirectory, item: item, reason: "image size \(data.width)x\(data.height)")
        }
        let intrinsic = Matrix3(k.flatMap { $0 })
        let lidarToCamera = SampleGeometry.lidarToCamera(
            cameraToEgo: try transform(calibration), cameraEgoToGlobal: try transform(pose),
            lidarToEgo: lidarToEgo, lidarEgoToGlobal: lidarEgoToGlobal)
        let lidarToImage = SampleGeometry.lidarToImage(intrinsic: intrinsic, lidarToCamera: lidarToCamera)
        guard lidarToImage.values.allFinite else {
            throw OnboardError.format(path: tables.tablesDirectory, item: item, reason: "calibrated_sensor \(calibration.token) and "
                + "ego_pose \(pose.token) compose to a non-finite lidar2img (a translation or intrinsic too large)")
        }
        let geometry = preprocessing.geometry(imageWidth: data.width, imageHeight: data.height)
        let path = (tables.dataroot as NSString).appendingPathComponent(data.filename)
        return CameraFrame(
            channel: channel, sampleDataToken: data.token, path: path, imageWidth: data.width, imageHeight: data.height,
            intrinsic: intrinsic, lidarToCamera: lidarToCamera,
            lidarToImage: lidarToImage,
            lidarToNetworkImage: SampleGeometry.lidarToImage(intrinsic: geometry.updated(intrinsic: intrinsic),
                                                             lidarToCamera: lidarToCamera))
    }

    func box(_ annotation: NuScenesSampleAnnotation) throws -> GroundTruthBox {
        let item = "sample_annotation \(annotation.token)"
        guard annotation.translation.count == 3, annotation.size.count == 3 else {
            throw OnboardError.format(path: tables.tablesDirectory, item: item, reason: "translation and size need 3 values")
        }
        let t = annotation.translation, s = annotation.size
        return GroundTruthBox(
            annotationToken: annotation.token, instanceToken: annotation.instance_token,
            categoryName: tables.categoryName(of: annotation) ?? "", attributeNames: tables.attributeNames(of: annotation),
            center: SIMD3(t[0], t[1], t[2]), size: SIMD3(s[0], s[1], s[2]),
            rotation: try located(NuScenesSampleAnnotation.self) { try Quaternion(nuScenes: annotation.rotation, item: item) },
            velocity: tables.velocity(of: annotation), numLidarPoints: annotation.num_lidar_pts,
            numRadarPoints: annotation.num_radar_pts, visibilityToken: annotation.visibility_token)
    }

    /// The sample's images as [N_cam, 3, H, W], channels in `channels` order; errors name file and channel.
    public func images(of sample: CameraSample, threads: Int) throws -> Tensor {
        do {
            return try preprocessing.batch(files: sample.cameras.map(\.path),
                                           expectedSizes: sample.cameras.map { ($0.imageWidth, $0.imageHeight) }, threads: threads)
        } catch let error as OnboardError {
            let channel = sample.cameras.first { error.description.contains($0.path) }?.channel ?? "camera"
            throw OnboardError.format(path: tables.tablesDirectory, item: "sample \(sample.token) \(channel)",
                                      reason: error.description)
        }
    }

    func tablePath<R: NuScenesRecord>(_: R.Type) -> String {
        (tables.tablesDirectory as NSString).appendingPathComponent("\(R.tableName).json")
    }

    /// `body`'s shape errors (a bad rotation or translation) located in `R`'s table file.
    func located<R: NuScenesRecord, T>(_ table: R.Type, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let OnboardError.shape(item, reason) {
            throw OnboardError.format(path: tablePath(table), item: item, reason: reason)
        }
    }

    func transform(_ record: NuScenesCalibratedSensor) throws -> RigidTransform {
        try located(NuScenesCalibratedSensor.self) {
            try RigidTransform(nuScenesRotation: record.rotation, translation: record.translation, item: "calibrated_sensor \(record.token)")
        }
    }

    func transform(_ record: NuScenesEgoPose) throws -> RigidTransform {
        try located(NuScenesEgoPose.self) {
            try RigidTransform(nuScenesRotation: record.rotation, translation: record.translation, item: "ego_pose \(record.token)")
        }
    }

    func warn(_ text: String) {
        FileHandle.standardError.write(Data("onboard: warning: \(text)\n".utf8))
    }
}
