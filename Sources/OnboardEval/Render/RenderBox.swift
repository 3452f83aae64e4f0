import Foundation
import OnboardCore

/// A 3D box to draw, in the lidar frame (LIDAR_TOP of the sample).
///
/// The layout is PETR's decoded box in the mmdet3d 0.17 LiDAR convention (see
/// `/work/shared/reference/petr-qpetr-nuscenes.md`, §2 "Export convention" and §5 item 8): size is
/// (w, l, h) with w along the box's own x axis and l along its own y axis, and `yaw` is 0 when the
/// box's front points to −y, growing from −y towards +x. The nuScenes heading (from +x, counter-
/// clockwise, length along it) is therefore `−yaw − π/2`. `center` is the gravity centre (PETR's
/// rows give the bottom centre z; add h/2).
public struct RenderBox: Sendable, Equatable {
    public var center: SIMD3<Double>
    /// Width, length, height in metres.
    public var size: SIMD3<Double>
    /// mmdet3d 0.17 LiDAR yaw in radians.
    public var yaw: Double
    /// Index into the renderer's class names (PETR order by default).
    public var label: Int
    /// Detection score (ignored for ground truth).
    public var score: Double
    public var isGroundTruth: Bool

    public init(center: SIMD3<Double>, size: SIMD3<Double>, yaw: Double, label: Int, score: Double = 1, isGroundTruth: Bool) {
        self.center = center
        self.size = size
        self.yaw = yaw
        self.label = label
        self.score = score
        self.isGroundTruth = isGroundTruth
    }

    /// A box from a nuScenes-convention heading (radians from +x, counter-clockwise; l along it).
    public init(center: SIMD3<Double>, size: SIMD3<Double>, heading: Double, label: Int, score: Double = 1, isGroundTruth: Bool) {
        self.init(center: center, size: size, yaw: -heading - Double.pi / 2, label: label, score: score, isGroundTruth: isGroundTruth)
    }

    /// A prediction from a row of PETR's decoded boxes, `[x, y, z_bottom, w, l, h, yaw, ...]` (velocity
    /// columns ignored): the centre is lifted by h/2 to the gravity centre.
    public init(petrRow row: [Double], label: Int, score: Double) throws {
        guard row.count >= 7, row.prefix(7).allFinite else {
            throw OnboardError.shape(item: "decoded box", reason: "needs 7 finite values [x, y, z_bottom, w, l, h, yaw], got \(row)")
        }
        self.init(center: SIMD3(row[0], row[1], row[2] + row[5] / 2), size: SIMD3(row[3], row[4], row[5]), yaw: row[6],
                  label: label, score: score, isGroundTruth: false)
    }

    /// Direction of travel in the lidar xy plane (nuScenes heading = −yaw − π/2).
    public var heading: Double { -yaw - Double.pi / 2 }

    /// The 8 corners: bottom face first (front-left, front-right, rear-right, rear-left seen from above,
    /// "front" along the heading), then the top face in the same order.
    public var corners: [SIMD3<Double>] {
        let forward = SIMD2(cos(heading), sin(heading))
        let left = SIMD2(-forward.y, forward.x)
        let halfLength = size.y / 2, halfWidth = size.x / 2
        let footprint = [
            forward * halfLength + left * halfWidth, forward * halfLength - left * halfWidth,
            -forward * halfLength - left * halfWidth, -forward * halfLength + left * halfWidth,
        ]
        let bottom = center.z - size.z / 2, top = center.z + size.z / 2
        return footprint.map { SIMD3(center.x + $0.x, center.y + $0.y, bottom) }
            + footprint.map { SIMD3(center.x + $0.x, center.y + $0.y, top) }
    }

    /// Corner index pairs of the 12 edges (bottom ring, top ring, verticals).
    public static let edges: [(Int, Int)] = [
        (0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7),
    ]

    /// Midpoint of the front face's bottom edge (for a heading tick).
    public var frontCenter: SIMD3<Double> {
        SIMD3(center.x + cos(heading) * size.y / 2, center.y + sin(heading) * size.y / 2, center.z - size.z / 2)
    }
}
