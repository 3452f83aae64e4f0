import OnboardCore

/// A rotation followed by a translation, in Double: `p' = R p + t`.
public struct RigidTransform: Equatable, Sendable {
    public var rotation: Matrix3
    public var translation: SIMD3<Double>

    public init(rotation: Matrix3, translation: SIMD3<Double>) {
        self.rotation = rotation; self.translation = translation
    }

    public static let identity = RigidTransform(rotation: .identity, translation: .zero)

    /// From a nuScenes record's `rotation` [w, x, y, z] and `translation` [x, y, z].
    public init(nuScenesRotation rotation: [Double], translation: [Double], item: String) throws {
        guard translation.count == 3, translation.allFinite else {
            throw OnboardError.shape(item: item, reason: "translation must be 3 finite numbers, got \(translation)")
        }
        self.init(rotation: try Quaternion(nuScenes: rotation, item: item).matrix,
                  translation: SIMD3(translation[0], translation[1], translation[2]))
    }

    public func apply(_ p: SIMD3<Double>) -> SIMD3<Double> { rotation * p + translation }

    /// `self` after `other`: x -> self(other(x)).
    public func composed(after other: RigidTransform) -> RigidTransform {
        RigidTransform(rotation: rotation * other.rotation, translation: rotation * other.translation + translation)
    }

    public var inverse: RigidTransform {
        let rt = rotation.transposed
        return RigidTransform(rotation: rt, translation: -(rt * translation))
    }

    public var matrix: Matrix4 { Matrix4(rotation: rotation, translation: translation) }
}
