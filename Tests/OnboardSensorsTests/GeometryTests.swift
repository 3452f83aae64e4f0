import OnboardCore
import OnboardSensors
import XCTest

final class GeometryTests: XCTestCase {
    func test_quaternionMatrixRotatesAsNuScenesDoes() throws {
        // 90 degrees about +z maps x to y.
        let q = try Quaternion(nuScenes: [0.7071067811865476, 0, 0, 0.7071067811865475], item: "q")
        let v = q.matrix * SIMD3(1, 0, 0)
        XCTAssertEqual(v.x, 0, accuracy: 1e-12)
        XCTAssertEqual(v.y, 1, accuracy: 1e-12)
        XCTAssertEqual(q.yaw, .pi / 2, accuracy: 1e-12)
        // The nuScenes camera convention: camera +z (optical axis) to ego +x, camera +y (down) to ego -z.
        let camera = try Quaternion(nuScenes: [0.5, -0.5, 0.5, -0.5], item: "cam").matrix
        let forward = camera * SIMD3(0, 0, 1), down = camera * SIMD3(0, 1, 0)
        XCTAssertEqual(forward.x, 1, accuracy: 1e-12)
        XCTAssertEqual(down.z, -1, accuracy: 1e-12)
    }

    func test_rigidTransformComposesAndInverts() throws {
        let a = try RigidTransform(nuScenesRotation: Quaternion(yaw: 0.3).nuScenes, translation: [1, 2, 3], item: "a")
        let b = try RigidTransform(nuScenesRotation: Quaternion(axis: (0, 1, 0), angle: -0.7).nuScenes,
                                   translation: [-4, 0.5, 2], item: "b")
        let p = SIMD3(0.3, -1.2, 5.0)
        let composed = a.composed(after: b).apply(p), stepwise = a.apply(b.apply(p))
        for i in 0..<3 { XCTAssertEqual(composed[i], stepwise[i], accuracy: 1e-12) }
        let back = a.inverse.apply(a.apply(p))
        for i in 0..<3 { XCTAssertEqual(back[i], p[i], accuracy: 1e-12) }
    }

    func test_badQuaternionIsAnErrorNamingTheItem() {
        XCTAssertThrowsError(try Quaternion(nuScenes: [0, 0, 0], item: "calibrated_sensor x")) {
            XCTAssertTrue("\($0)".contains("calibrated_sensor x"))
        }
        XCTAssertThrowsError(try Quaternion(nuScenes: [0, 0, 0, 0], item: "zero"))
    }
}
