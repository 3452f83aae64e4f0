import OnboardCore
import OnboardEval
import OnboardSensors
import OnboardTestSupport
import XCTest

/// Reference detections as ground truth for sets without annotations.
final class PseudoGroundTruthTests: XCTestCase {
    static let dataroot = TestPaths.fixture("nuscenes-eval/data")

    /// A box `dx` metres ahead of the ego pose `at` (global x), 5 m to the side.
    func box(_ token: String, at ego: [Double], dx: Double, score: Double, name: String = "car") -> EvalBox {
        EvalBox(sampleToken: token, translation: SIMD3(ego[0] + dx, ego[1] + 5, 1), size: SIMD3(2, 4, 1.5), rotation: SIMD4(1, 0, 0, 0),
                velocity: SIMD2(0.5, 0), detectionName: name, detectionScore: score, attributeName: "vehicle.moving")
    }

    func test_boxesAboveTheThresholdBecomeGroundTruthAndScoreThemselvesPerfectly() throws {
        let tables = try NuScenesTables(dataroot: Self.dataroot, version: "v1.0-evalfix")
        let tokens = try GroundTruth.sampleTokens(tables: tables, split: "synth_one")
        XCTAssertFalse(PseudoGroundTruth.isUnannotated(tables: tables, sampleTokens: tokens))
        let pose = try tables.lidarEgoPose(ofSample: tokens[0])
        let ego = pose.translation
        var reference = EvalBoxes()
        reference.add([box(tokens[0], at: ego, dx: 10, score: 0.9), box(tokens[0], at: ego, dx: -10, score: 0.3),
                       box(tokens[0], at: ego, dx: 20, score: 0.29, name: "pedestrian")], to: tokens[0])
        for token in tokens.dropFirst() { reference.add([], to: token) }
        let truth = try PseudoGroundTruth.make(reference: reference, sampleTokens: tokens, tables: tables)
        XCTAssertEqual(truth.sampleTokens, tokens)
        XCTAssertEqual(truth.boxes.count, 2)
        XCTAssertEqual(truth.boxes[tokens[0]].map(\.numPoints), [1, 1])
        XCTAssertEqual(truth.boxes[tokens[0]].map(\.detectionScore), [-1, -1])
        XCTAssertEqual(truth.boxes[tokens[0]].map(\.attributeName), ["vehicle.moving", "vehicle.moving"])
        XCTAssertEqual(truth.egoTranslations[tokens[0]], SIMD3(pose.translation[0], pose.translation[1], pose.translation[2]))
        XCTAssertTrue(truth.bicycleRacks.isEmpty)

        let summary = DetectionEvaluation.evaluate(groundTruth: truth, predictions: reference)
        XCTAssertEqual(summary.meanDistAPs["car"] ?? 0, 1, accuracy: 1e-9)
        // The pedestrian below the threshold is a false positive of a class without ground truth.
        XCTAssertEqual(summary.meanDistAPs["pedestrian"], 0)
        XCTAssertEqual(summary.meanAP, 0.1, accuracy: 1e-9)
        XCTAssertEqual(summary.labelTPErrors["car"]?["trans_err"] ?? 1, 0, accuracy: 1e-9)
    }

    func test_tokensInitMatchesTheSplitInit() throws {
        let tables = try NuScenesTables(dataroot: Self.dataroot, version: "v1.0-evalfix")
        let bySplit = try GroundTruth(tables: tables, split: "synth_one")
        let byTokens = try GroundTruth(tables: tables, sampleTokens: bySplit.sampleTokens)
        XCTAssertEqual(byTokens.boxes, bySplit.boxes)
        XCTAssertEqual(byTokens.egoTranslations, bySplit.egoTranslations)
        XCTAssertGreaterThan(byTokens.boxes.count, 0)
    }
}
