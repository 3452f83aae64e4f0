import Foundation
import OnboardCore
import OnboardSensors
import OnboardTestSupport
import XCTest

final class RigTests: XCTestCase {
    func test_shippedRigsLoadInPETROrder() throws {
        let rig = try CameraRig(path: CameraRig.resolve("nuscenes-6cam", root: TestPaths.root))
        XCTAssertEqual(rig.cameras.map(\.channel), NuScenesSampleReader.petrChannels)
        XCTAssertEqual([rig.image_width, rig.image_height], [1600, 900])
        // Optical axes point where the channel names say (yaw of camera +z in the ego frame).
        let expectedYaw: [Double] = [0, -55, 55, 180, 110, -110]
        for (camera, yaw) in zip(rig.cameras, expectedYaw) {
            let axis = try rig.cameraToEgo(camera).rotation * SIMD3(0, 0, 1)
            var difference = atan2(axis.y, axis.x) * 180 / .pi - yaw
            difference -= 360 * (difference / 360).rounded()
            XCTAssertLessThan(abs(difference), 5, camera.channel)
        }
        let tiny = try CameraRig(path: CameraRig.resolve("tiny-2cam", root: TestPaths.root))
        XCTAssertEqual(tiny.cameras.count, 2)
    }

    func test_badRigIsAnErrorNamingFileAndCamera() throws {
        let directory = TestPaths.temporaryDirectory("rig")
        let path = "\(directory)/bad.json"
        var rig = try CameraRig(path: CameraRig.resolve("tiny-2cam", root: TestPaths.root))
        rig.cameras[1].intrinsic = [[0, 0, 1], [0, 1, 1], [0, 0, 1]]
        let data = try JSONEncoder().encode(rig)
        try AtomicFile(path: path).write(bytes: [UInt8](data))
        XCTAssertThrowsError(try CameraRig(path: path)) { error in
            XCTAssertTrue("\(error)".contains("bad.json") && "\(error)".contains("CAM_BACK"), "\(error)")
        }
        XCTAssertThrowsError(try CameraRig(path: "\(directory)/none.json")) { XCTAssertTrue("\($0)".contains("none.json")) }
    }
}
