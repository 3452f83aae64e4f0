/// One camera of a sample: its image file and the geometry PETR feeds the network.
public struct CameraFrame: Equatable, Sendable {
    public let channel: String
    public let sampleDataToken: String
    /// Absolute path of the JPEG.
    public let path: String
    public let imageWidth: Int
    public let imageHeight: Int
    /// The calibrated intrinsic K of the original image.
    public let intrinsic: Matrix3
    /// Lidar (LIDAR_TOP at the sample's key frame) -> camera, composed through the camera's and the
    /// lidar's ego poses (PETR's `obtain_sensor2top` then `get_data_info`).
    public let lidarToCamera: RigidTransform
    /// viewpad(K) @ lidar2cam with the original K.
    public let lidarToImage: Matrix4
    /// viewpad(ida K) @ lidar2cam: the preprocessed image's projection (what PETR's pipeline passes on).
    public let lidarToNetworkImage: Matrix4
}

/// A ground-truth box as the devkit's `load_gt` sees it (global frame).
public struct GroundTruthBox: Equatable, Sendable {
    public let annotationToken: String
    public let instanceToken: String
    /// nuScenes category, e.g. "vehicle.car".
    public let categoryName: String
    public let attributeNames: [String]
    public let center: SIMD3<Double>
    /// Width, length, height.
    public let size: SIMD3<Double>
    public let rotation: Quaternion
    /// The devkit's `box_velocity` (NaN when unknown).
    public let velocity: SIMD3<Double>
    public let numLidarPoints: Int
    public let numRadarPoints: Int
    public let visibilityToken: String
}

/// A key-frame sample with its cameras in the requested channel order.
public struct CameraSample: Equatable, Sendable {
    public let token: String
    public let sceneToken: String
    public let timestamp: Int64
    public let cameras: [CameraFrame]
    /// LIDAR_TOP -> ego and ego -> global at the LIDAR_TOP key frame.
    public let lidarToEgo: RigidTransform
    public let egoToGlobal: RigidTransform
    public let boxes: [GroundTruthBox]
}
