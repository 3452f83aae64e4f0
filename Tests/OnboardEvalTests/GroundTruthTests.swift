import OnboardCore
import OnboardEval
import OnboardSensors
import OnboardTestSupport
import XCTest

/// Loading the ground truth as the devkit's `load_gt_of_sample_tokens` + `add_center_dist` do.
final class GroundTruthTests: XCTestCase {
    static let dataroot = TestPaths.fixture("nuscenes-eval/data")

    func test_groundTruth_followsTheDevkitsLoading() throws {
        let tables = try NuScenesTables(dataroot: Self.dataroot, version: "v1.0-evalfix")
        let truth = try GroundTruth(tables: tables, split: "synth_one")
        // sample.json order (the fixture lists scene a's samples last), not scene/time order.
        let tableOrder = tables.sample.records.map(\.token).filter { Set(truth.sampleTokens).contains($0) }
        XCTAssertEqual(truth.sampleTokens, tableOrder)
        XCTAssertEqual(truth.sampleTokens.count, 4)
        let boxes = truth.boxes.all
        // Scene a holds 8 of the 10 classes (trailer and construction vehicle are in scene b); the animal,
        // the stroller and the rack are no detection boxes.
        XCTAssertEqual(Set(boxes.map(\.detectionName)).count, 8)
        XCTAssertFalse(boxes.contains { $0.detectionName == "static_object.bicycle_rack" })
        XCTAssertEqual(truth.bicycleRacks.values.map(\.count), [1, 1, 1, 1])
        // The lone car annotation has no neighbour: NaN velocity; the police officer has no attribute.
        XCTAssertEqual(boxes.filter { $0.velocity.x.isNaN }.count, 1)
        XCTAssertTrue(boxes.contains { $0.detectionName == "pedestrian" && $0.attributeName.isEmpty })
        // Ego translation comes from the LIDAR_TOP key frame, not the sweep listed after it (30 m away).
        let first = try XCTUnwrap(tables.sample.records.first { $0.token == truth.sampleTokens[0] })
        let lidar = try XCTUnwrap(tables.keyFrame(ofSample: first.token, channel: "LIDAR_TOP"))
        let pose = try XCTUnwrap(tables.egoPose[lidar.ego_pose_token])
        XCTAssertEqual(truth.egoTranslations[first.token], SIMD3(pose.translation[0], pose.translation[1], pose.translation[2]))
    }

    func test_sampleWithoutLidarKeyFrame_isRejectedNamingIt() throws {
        let tables = try NuScenesTables(dataroot: Self.dataroot, version: "v1.0-evalfix")
        let victim = try GroundTruth.sampleTokens(tables: tables, split: "synth_val")[0]
        var records = tables.allRecords
        records.sampleData = records.sampleData.map { data in
            var data = data
            if data.sample_token == victim, tables.channel(ofSampleData: data) == "LIDAR_TOP" { data.is_key_frame = false }
            return data
        }
        let stripped = try NuScenesTables(dataroot: Self.dataroot, version: "v1.0-evalfix", records: records)
        XCTAssertThrowsError(try GroundTruth(tables: stripped, split: "synth_val")) { error in
            let message = (error as? OnboardError)?.description ?? "\(error)"
            XCTAssertTrue(message.contains("sample \(victim)") && message.contains("LIDAR_TOP"), message)
        }
    }
}
