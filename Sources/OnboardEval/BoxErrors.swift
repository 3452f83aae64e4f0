import Foundation

/// The per-match distances and errors (devkit `eval/common/utils.py`), with its floating-point order of operations.
public enum BoxErrors {
    /// xy distance between the centres (`center_distance`).
    public static func centerDistance(_ gt: EvalBox, _ pred: EvalBox) -> Double {
        let dx = pred.translation.x - gt.translation.x, dy = pred.translation.y - gt.translation.y
        return (dx * dx + dy * dy).squareRoot()
    }

    /// L2 norm of the velocity difference (`velocity_l2`); NaN when either velocity is NaN.
    public static func velocityL2(_ gt: EvalBox, _ pred: EvalBox) -> Double {
        let dx = pred.velocity.x - gt.velocity.x, dy = pred.velocity.y - gt.velocity.y
        return (dx * dx + dy * dy).squareRoot()
    }

    /// Intersection over union of the two boxes aligned on centre and yaw (`scale_iou`).
    public static func scaleIoU(_ gt: EvalBox, _ pred: EvalBox) -> Double {
        let minimum = SIMD3(Swift.min(gt.size.x, pred.size.x), Swift.min(gt.size.y, pred.size.y),
                            Swift.min(gt.size.z, pred.size.z))
        let gtVolume = gt.size.x * gt.size.y * gt.size.z
        let predVolume = pred.size.x * pred.size.y * pred.size.z
        let intersection = minimum.x * minimum.y * minimum.z
        return intersection / (gtVolume + predVolume - intersection)
    }

    /// |yaw difference| in [0, π] with the given period (`yaw_diff`): 2π, or π for barriers.
    public static func yawDifference(_ gt: EvalBox, _ pred: EvalBox, period: Double) -> Double {
        abs(angleDifference(yaw(of: gt.rotation), yaw(of: pred.rotation), period: period))
    }

    /// The signed smallest difference from `y` to `x` (`angle_diff`), with Python's floored `%`.
    public static func angleDifference(_ x: Double, _ y: Double, period: Double) -> Double {
        var diff = pythonModulo(x - y + period / 2, period) - period / 2
        if diff > Double.pi { diff -= 2 * Double.pi }
        return diff
    }

    /// Python's float `%`: the result takes the sign of the divisor.
    static func pythonModulo(_ a: Double, _ b: Double) -> Double {
        var remainder = fmod(a, b)
        if remainder != 0, (remainder < 0) != (b < 0) { remainder += b }
        return remainder
    }

    /// Yaw of the rotated x axis (`quaternion_yaw`: pyquaternion's normalised rotation matrix, column 0).
    public static func yaw(of rotation: SIMD4<Double>) -> Double {
        let q = normalized(rotation)
        let (w, x, y, z) = (q[0], q[1], q[2], q[3])
        // Rows of pyquaternion's q_matrix . q_bar_matrix^T, in its summation order.
        let r00 = x * x + w * w + (-z) * z + y * (-y)
        let r10 = y * x + z * w + w * z + (-x) * (-y)
        return atan2(r10, r00)
    }

    /// pyquaternion's `_normalise`: divide by the norm unless the squared norm is within 1e-14 of 1.
    static func normalized(_ q: SIMD4<Double>) -> SIMD4<Double> {
        let squares = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]
        guard abs(1 - squares) >= 1e-14 else { return q }
        let norm = squares.squareRoot()
        return norm > 0 ? q / norm : q
    }

    /// The 3x3 rotation matrix (row-major) of pyquaternion's `rotation_matrix`.
    static func rotationMatrix(_ rotation: SIMD4<Double>) -> [SIMD3<Double>] {
        let q = normalized(rotation)
        let (w, x, y, z) = (q[0], q[1], q[2], q[3])
        return [
            SIMD3(x * x + w * w + (-z) * z + y * (-y), x * y + w * (-z) + (-z) * w + y * x, x * z + w * y + (-z) * (-x) + y * w),
            SIMD3(y * x + z * w + w * z + (-x) * (-y), y * y + z * (-z) + w * w + (-x) * x, y * z + z * y + w * (-x) + (-x) * w),
            SIMD3(z * x + (-y) * w + x * z + w * (-y), z * y + (-y) * (-z) + x * w + w * x, z * z + (-y) * y + x * (-x) + w * w),
        ]
    }

    /// 1 − attribute accuracy (`1 - attr_acc`): NaN when the ground truth has no attribute.
    public static func attributeError(_ gt: EvalBox, _ pred: EvalBox) -> Double {
        if gt.attributeName.isEmpty { return .nan }
        return gt.attributeName == pred.attributeName ? 0 : 1
    }
}
