import Foundation
import OnboardCore
import OnboardSensors
import OnboardTestSupport
import XCTest

/// Bad calibration and images are refused with the table file and record: non-positive or singular
/// intrinsics, zero-norm rotations, a JPEG whose size differs from its sample_data record.
final class SensorInputLimitsTests: XCTestCase {
    let root = TestPaths.fixture("nuscenes-synth-tiny")

    /// The tiny fixture's first camera calibration edited by `edit`, read through a sample reader.
    func readerMessage(edit: (inout NuScenesRecords) -> Void) throws -> String {
        var records = try NuScenesTables(dataroot: root, version: "v1.0-synth").allRecords
        edit(&records)
        let tables = try NuScenesTables(dataroot: root, version: "v1.0-synth", records: records)
        var preprocessing = PETRPreprocessing.vovnet800x320
        preprocessing.width = 80; preprocessing.height = 32
        let reader = try NuScenesSampleReader(tables: tables, channels: ["CAM_FRONT", "CAM_BACK"], preprocessing: preprocessing)
        do {
            _ = try reader.samples()
            return "accepted"
        } catch {
            return "\(error)".replacingOccurrences(of: root + "/v1.0-synth/", with: "")
        }
    }

    func firstCamera(_ records: NuScenesRecords) -> Int {
        records.calibratedSensor.firstIndex { !$0.camera_intrinsic.isEmpty }!
    }

    func test_intrinsicsWithZeroFocalLengthOrSingularAreRefused() throws {
        var token = ""
        let zero = try readerMessage { records in
            let i = firstCamera(records)
            token = records.calibratedSensor[i].token
            records.calibratedSensor[i].camera_intrinsic[0][0] = 0
        }
        XCTAssertTrue(zero.hasPrefix("calibrated_sensor.json: calibrated_sensor \(token) camera_intrinsic: focal lengths fx and fy must be > 0, got [[0.0,"), zero)
        let flat = try readerMessage { records in
            records.calibratedSensor[firstCamera(records)].camera_intrinsic = [[500, 0, 100], [0, 500, 100], [5, 0, 1]]
        }
        XCTAssertTrue(flat.hasPrefix("calibrated_sensor.json: calibrated_sensor \(token) camera_intrinsic: the matrix is singular, got"), flat)
        XCTAssertEqual(try readerMessage { _ in }, "accepted")
    }

    func test_zeroNormRotationNamesTheTableFileAndRecord() throws {
        let message = try readerMessage { records in
            for i in records.egoPose.indices { records.egoPose[i].rotation = [0, 0, 0, 0] }
        }
        XCTAssertTrue(message.hasPrefix("ego_pose.json: ego_pose ") && message.hasSuffix(": rotation quaternion has zero norm"), message)
    }

    func test_translationsThatOverflowTheProjectionAreRefused() throws {
        let message = try readerMessage { records in
            for i in records.calibratedSensor.indices {
                records.calibratedSensor[i].translation = [records.calibratedSensor[i].camera_intrinsic.isEmpty ? -1e308 : 1e308, 0, 0]
            }
        }
        XCTAssertTrue(message.contains("compose to a non-finite lidar2img (a translation or intrinsic too large)"), message)
        XCTAssertTrue(message.hasPrefix("\(root)/v1.0-synth: sample "), message)
    }

    func test_aJPEGWhoseSizeDiffersFromItsRecordIsRefused() throws {
        let image = RGBImage(width: 64, height: 48, fill: (10, 20, 30))
        let jpeg = try JPEGCodec.encode(image)
        var preprocessing = PETRPreprocessing.vovnet800x320
        preprocessing.width = 32; preprocessing.height = 16
        XCTAssertNoThrow(try preprocessing.decode(jpeg: jpeg, path: "a.jpg", expectedSize: (64, 48)))
        XCTAssertThrowsError(try preprocessing.decode(jpeg: jpeg, path: "a.jpg", expectedSize: (1600, 900))) { error in
            XCTAssertEqual("\(error)", "a.jpg: the image is 64x48, its sample_data record says width 1600, height 900")
        }
    }
}
