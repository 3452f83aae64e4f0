/// The lidar2img chain in Double.
public enum SampleGeometry {
    /// camera -> ego(t_cam) -> global -> ego(t_lidar) -> lidar, inverted to lidar -> camera.
    public static func lidarToCamera(cameraToEgo: RigidTransform, cameraEgoToGlobal: RigidTransform,
                                     lidarToEgo: RigidTransform, lidarEgoToGlobal: RigidTransform) -> RigidTransform {
        let cameraToLidar = lidarToEgo.inverse
            .composed(after: lidarEgoToGlobal.inverse)
            .composed(after: cameraEgoToGlobal)
            .composed(after: cameraToEgo)
        return cameraToLidar.inverse
    }

    /// viewpad(K) @ [R|t].
    public static func lidarToImage(intrinsic: Matrix3, lidarToCamera: RigidTransform) -> Matrix4 {
        Matrix4(padding: intrinsic) * lidarToCamera.matrix
    }

    /// Pixel (u, v) and depth of a lidar-frame point; nil behind the camera.
    public static func project(_ point: SIMD3<Double>, lidarToImage: Matrix4) -> (u: Double, v: Double, depth: Double)? {
        let p = lidarToImage.apply(point)
        guard p.z > 1e-6 else { return nil }
        return (p.x / p.z, p.y / p.z, p.z)
    }
}
