/// A decoded 3D detection in the LIDAR_TOP frame, in the pre-1.0 mmdet3d layout PETR's coder
/// returns: bottom-centre z, sizes (w, l, h), yaw measured as mmdet3d 0.17 stores it
/// (yaw_mm = -yaw_nuScenes - pi/2), velocity (vx, vy) in the lidar frame.
public struct LidarBox: Sendable, Equatable {
    public var x, y, zBottom: Double
    public var width, length, height: Double
    public var yaw: Double
    public var vx, vy: Double
    public var label: Int
    public var score: Double

    public init(x: Double, y: Double, zBottom: Double, width: Double, length: Double, height: Double,
                yaw: Double, vx: Double, vy: Double, label: Int, score: Double) {
        self.x = x; self.y = y; self.zBottom = zBottom
        self.width = width; self.length = length; self.height = height
        self.yaw = yaw; self.vx = vx; self.vy = vy; self.label = label; self.score = score
    }

    /// The row [x, y, z_bottom, w, l, h, yaw, vx, vy] of a decoded `boxes` tensor.
    public init(row: [Float], label: Int, score: Float) {
        let v = row.map(Double.init) + [Double](repeating: 0, count: max(0, 9 - row.count))
        self.init(x: v[0], y: v[1], zBottom: v[2], width: v[3], length: v[4], height: v[5], yaw: v[6],
                  vx: v[7], vy: v[8], label: label, score: Double(score))
    }

    public var gravityCenter: SIMD3<Double> { SIMD3(x, y, zBottom + height / 2) }

    /// The nuScenes yaw (about +z, from +x) of the box in the lidar frame.
    public var nuScenesYaw: Double { -yaw - .pi / 2 }
}
