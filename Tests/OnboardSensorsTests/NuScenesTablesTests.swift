import Foundation
import OnboardCore
import OnboardSensors
import OnboardTestSupport
import XCTest

/// A two-sample, one-scene set built by hand.
enum HandMadeTables {
    static func records() -> NuScenesRecords {
        let identity = [1.0, 0, 0, 0]
        let yaw90 = Quaternion(yaw: .pi / 2).nuScenes
        return NuScenesRecords(
            category: [NuScenesCategory(token: "cat-car", name: "vehicle.car", description: "")],
            attribute: [NuScenesAttribute(token: "att-moving", name: "vehicle.moving", description: "")],
            visibility: [NuScenesVisibility(token: "4", level: "v80-100", description: "")],
            instance: [NuScenesInstance(token: "inst", category_token: "cat-car", nbr_annotations: 2,
                                        first_annotation_token: "ann-0", last_annotation_token: "ann-1")],
            sensor: [NuScenesSensor(token: "sen-lidar", channel: "LIDAR_TOP", modality: "lidar"),
                     NuScenesSensor(token: "sen-front", channel: "CAM_FRONT", modality: "camera")],
            calibratedSensor: [
                NuScenesCalibratedSensor(token: "cs-lidar", sensor_token: "sen-lidar", translation: [0.9, 0, 1.8],
                                         rotation: yaw90, camera_intrinsic: []),
                NuScenesCalibratedSensor(token: "cs-front", sensor_token: "sen-front", translation: [1.7, 0, 1.5],
                                         rotation: [0.5, -0.5, 0.5, -0.5],
                                         camera_intrinsic: [[1266.4, 0, 816.3], [0, 1266.4, 491.5], [0, 0, 1]]),
            ],
            egoPose: [
                NuScenesEgoPose(token: "ep-0", timestamp: 1_000_000, rotation: identity, translation: [100, 200, 0]),
                NuScenesEgoPose(token: "ep-1", timestamp: 1_500_000, rotation: yaw90, translation: [105, 200, 0]),
                NuScenesEgoPose(token: "ep-c0", timestamp: 1_010_000, rotation: identity, translation: [100.1, 200, 0]),
                NuScenesEgoPose(token: "ep-c1", timestamp: 1_510_000, rotation: yaw90, translation: [105.1, 200, 0]),
            ],
            log: [NuScenesLog(token: "log", logfile: "hand", vehicle: "v", date_captured: "2020-01-01", location: "synth")],
            scene: [NuScenesScene(token: "scene", log_token: "log", nbr_samples: 2, first_sample_token: "s0",
                                  last_sample_token: "s1", name: "scene-hand", description: "")],
            sample: [NuScenesSample(token: "s0", timestamp: 1_000_000, prev: "", next: "s1", scene_token: "scene"),
                     NuScenesSample(token: "s1", timestamp: 1_500_000, prev: "s0", next: "", scene_token: "scene")],
            sampleData: [
                data("sd-l0", "s0", "ep-0", "cs-lidar", 1_000_000, "samples/LIDAR_TOP/0.pcd.bin", next: "sd-l1"),
                data("sd-l1", "s1", "ep-1", "cs-lidar", 1_500_000, "samples/LIDAR_TOP/1.pcd.bin", prev: "sd-l0"),
                data("sd-c0", "s0", "ep-c0", "cs-front", 1_010_000, "samples/CAM_FRONT/0.jpg", next: "sd-c1"),
                data("sd-c1", "s1", "ep-c1", "cs-front", 1_510_000, "samples/CAM_FRONT/1.jpg", prev: "sd-c0"),
            ],
            sampleAnnotation: [
                NuScenesSampleAnnotation(token: "ann-0", sample_token: "s0", instance_token: "inst", visibility_token: "4",
                                         attribute_tokens: ["att-moving"], translation: [110, 201, 0.8],
                                         size: [1.9, 4.6, 1.7], rotation: identity, prev: "", next: "ann-1",
                                         num_lidar_pts: 12, num_radar_pts: 0),
                NuScenesSampleAnnotation(token: "ann-1", sample_token: "s1", instance_token: "inst", visibility_token: "4",
                                         attribute_tokens: ["att-moving"], translation: [114, 202, 0.8],
                                         size: [1.9, 4.6, 1.7], rotation: identity, prev: "ann-0", next: "",
                                         num_lidar_pts: 10, num_radar_pts: 1),
            ],
            map: [NuScenesMap(token: "map", log_tokens: ["log"], category: "semantic_prior", filename: "maps/m.png")])
    }

    static func data(_ token: String, _ sample: String, _ pose: String, _ calibration: String, _ time: Int64,
                     _ file: String, prev: String = "", next: String = "") -> NuScenesSampleData {
        let camera = file.hasSuffix(".jpg")
        return NuScenesSampleData(token: token, sample_token: sample, ego_pose_token: pose,
                                  calibrated_sensor_token: calibration, timestamp: time,
                                  fileformat: camera ? "jpg" : "pcd", is_key_frame: true,
                                  height: camera ? 900 : 0, width: camera ? 1600 : 0,
                                  filename: file, prev: prev, next: next)
    }
}

final class NuScenesTablesTests: XCTestCase {
    func test_tablesRoundTripThroughFiles() throws {
        let root = TestPaths.temporaryDirectory("nusc-tables")
        let records = HandMadeTables.records()
        let directory = (root as NSString).appendingPathComponent("v1.0-hand")
        try NuScenesTablesWriter.write(records, splits: ["synth_val": ["scene-hand"]], to: directory)
        let loaded = try NuScenesTables(dataroot: root, version: "v1.0-hand")
        XCTAssertEqual(loaded.allRecords, records)
        XCTAssertEqual(try loaded.sampleTokens(inSplit: "synth_val"), ["s0", "s1"])
        XCTAssertEqual(loaded.annotations(ofSample: "s1").map(\.token), ["ann-1"])
        XCTAssertEqual(loaded.categoryName(of: loaded.annotations(ofSample: "s0")[0]), "vehicle.car")
        XCTAssertEqual(try loaded.lidarEgoPose(ofSample: "s1").token, "ep-1")
        XCTAssertEqual(loaded.keyFrame(ofSample: "s0", channel: "CAM_FRONT")?.token, "sd-c0")

        // Same records, same bytes.
        let again = (root as NSString).appendingPathComponent("again")
        try NuScenesTablesWriter.write(records, splits: ["synth_val": ["scene-hand"]], to: again)
        for table in ["sample_annotation", "ego_pose", "splits"] {
            let a = FileManager.default.contents(atPath: "\(directory)/\(table).json")
            XCTAssertNotNil(a)
            XCTAssertEqual(a, FileManager.default.contents(atPath: "\(again)/\(table).json"), table)
        }
    }

    func test_velocityIsCentreDifferenceOverSampleTime() throws {
        let tables = try NuScenesTables(dataroot: "/nonexistent", version: "v", records: HandMadeTables.records())
        let v0 = tables.velocity(of: try XCTUnwrap(tables.sampleAnnotation["ann-0"]))
        XCTAssertEqual(v0.x, 8, accuracy: 1e-9)   // 4 m in 0.5 s
        XCTAssertEqual(v0.y, 2, accuracy: 1e-9)
        XCTAssertEqual(v0.z, 0, accuracy: 1e-9)

        var records = HandMadeTables.records()
        records.sampleAnnotation[0].next = ""
        records.sampleAnnotation[1].prev = ""
        let lonely = try NuScenesTables(dataroot: "/x", version: "v", records: records)
        XCTAssertTrue(lonely.velocity(of: lonely.sampleAnnotation.records[0]).x.isNaN)
    }

    func test_danglingTokenErrorNamesFileAndTokens() throws {
        var records = HandMadeTables.records()
        records.sampleData[2].ego_pose_token = "ep-missing"
        XCTAssertThrowsError(try NuScenesTables(dataroot: "/d", version: "v1", records: records)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("/d/v1/sample_data.json"), text)
            XCTAssertTrue(text.contains("sd-c0"), text)
            XCTAssertTrue(text.contains("ep-missing"), text)
        }
    }

    func test_tablesWithoutAnnotationsLeaveTheAnnotationFilesUnread() throws {
        let root = TestPaths.temporaryDirectory("nusc-no-annotations")
        let directory = (root as NSString).appendingPathComponent("v1.0-hand")
        try NuScenesTablesWriter.write(HandMadeTables.records(), to: directory)
        for table in ["sample_annotation", "instance"] {
            try AtomicFile(path: "\(directory)/\(table).json").write(string: "not json")
        }
        XCTAssertThrowsError(try NuScenesTables(dataroot: root, version: "v1.0-hand"))
        let tables = try NuScenesTables(dataroot: root, version: "v1.0-hand", annotations: false)
        XCTAssertTrue(tables.sampleAnnotation.records.isEmpty)
        XCTAssertTrue(tables.instance.records.isEmpty)
        XCTAssertEqual(tables.annotations(ofSample: "s0").map(\.token), [])
        XCTAssertEqual(tables.keyFrame(ofSample: "s1", channel: "CAM_FRONT")?.token, "sd-c1")
        XCTAssertEqual(try tables.lidarEgoPose(ofSample: "s0").token, "ep-0")
        // The files must still be there, as for a full load.
        try FileManager.default.removeItem(atPath: "\(directory)/instance.json")
        XCTAssertThrowsError(try NuScenesTables(dataroot: root, version: "v1.0-hand", annotations: false)) { error in
            XCTAssertTrue("\(error)".contains("instance.json"), "\(error)")
        }
    }

    func test_missingTableErrorNamesFile() throws {
        let root = TestPaths.temporaryDirectory("nusc-missing")
        let directory = (root as NSString).appendingPathComponent("v1.0-hand")
        try NuScenesTablesWriter.write(HandMadeTables.records(), to: directory)
        try FileManager.default.removeItem(atPath: "\(directory)/visibility.json")
        XCTAssertThrowsError(try NuScenesTables(dataroot: root, version: "v1.0-hand")) { error in
            XCTAssertTrue("\(error)".contains("visibility.json"), "\(error)")
        }
    }

    func test_malformedTableErrorNamesFileAndRecord() throws {
        let root = TestPaths.temporaryDirectory("nusc-bad")
        let directory = (root as NSString).appendingPathComponent("v")
        try NuScenesTablesWriter.write(HandMadeTables.records(), to: directory)
        try AtomicFile(path: "\(directory)/sample.json").write(string: #"[{"token": "s0", "timestamp": 1}]"#)
        XCTAssertThrowsError(try NuScenesTables(dataroot: root, version: "v")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("sample.json") && text.contains("prev"), text)
        }
    }
}
