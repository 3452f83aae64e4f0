import Foundation
import OnboardCore

/// A rotation quaternion in nuScenes order (w, x, y, z), in Double.
public struct Quaternion: Equatable, Sendable {
    public var w, x, y, z: Double

    public init(w: Double, x: Double, y: Double, z: Double) {
        self.w = w; self.x = x; self.y = y; self.z = z
    }

    /// From a nuScenes `[w, x, y, z]` array; throws unless it has four finite, non-zero-norm values.
    public init(nuScenes values: [Double], item: String) throws {
        guard values.count == 4, values.allFinite else {
            throw OnboardError.shape(item: item, reason: "rotation must be 4 finite numbers [w, x, y, z], got \(values)")
        }
        let norm = (values.map { $0 * $0 }.reduce(0, +)).squareRoot()
        guard norm > 1e-12 else { throw OnboardError.shape(item: item, reason: "rotation quaternion has zero norm") }
        self.init(w: values[0] / norm, x: values[1] / norm, y: values[2] / norm, z: values[3] / norm)
    }

    /// Rotation by `angle` radians about the unit `axis`.
    public init(axis: (Double, Double, Double), angle: Double) {
        let s = sin(angle / 2)
        self.init(w: cos(angle / 2), x: axis.0 * s, y: axis.1 * s, z: axis.2 * s)
    }

    /// Rotation about +z (yaw), as nuScenes boxes and ego poses use.
    public init(yaw: Double) { self.init(axis: (0, 0, 1), angle: yaw) }

    public var nuScenes: [Double] { [w, x, y, z] }

    /// Hamilton product: applying `other` first, then `self`.
    public static func * (lhs: Quaternion, rhs: Quaternion) -> Quaternion {
        Quaternion(
            w: lhs.w * rhs.w - lhs.x * rhs.x - lhs.y * rhs.y - lhs.z * rhs.z,
            x: lhs.w * rhs.x + lhs.x * rhs.w + lhs.y * rhs.z - lhs.z * rhs.y,
            y: lhs.w * rhs.y - lhs.x * rhs.z + lhs.y * rhs.w + lhs.z * rhs.x,
            z: lhs.w * rhs.z + lhs.x * rhs.y - lhs.y * rhs.x + lhs.z * rhs.w)
    }

    /// The unit quaternion (w >= 0) of a proper rotation matrix (Shepperd's method).
    public init(rotationMatrix m: Matrix3) {
        let trace = m[0, 0] + m[1, 1] + m[2, 2]
        var q: (Double, Double, Double, Double)
        if trace > 0 {
            let s = (trace + 1).squareRoot() * 2
            q = (s / 4, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s)
        } else if m[0, 0] > m[1, 1] && m[0, 0] > m[2, 2] {
            let s = (1 + m[0, 0] - m[1, 1] - m[2, 2]).squareRoot() * 2
            q = ((m[2, 1] - m[1, 2]) / s, s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s)
        } else if m[1, 1] > m[2, 2] {
            let s = (1 + m[1, 1] - m[0, 0] - m[2, 2]).squareRoot() * 2
            q = ((m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s)
        } else {
            let s = (1 + m[2, 2] - m[0, 0] - m[1, 1]).squareRoot() * 2
            q = ((m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4)
        }
        let sign: Double = q.0 < 0 ? -1 : 1
        self.init(w: sign * q.0, x: sign * q.1, y: sign * q.2, z: sign * q.3)
    }

    /// The 3x3 rotation matrix (row-major), as pyquaternion's `rotation_matrix`.
    public var matrix: Matrix3 {
        let (w, x, y, z) = (self.w, self.x, self.y, self.z)
        return Matrix3([
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ])
    }

    /// Yaw about +z of the rotated x axis (as the devkit's `quaternion_yaw`).
    public var yaw: Double {
        let m = matrix
        return atan2(m[1, 0], m[0, 0])
    }
}
