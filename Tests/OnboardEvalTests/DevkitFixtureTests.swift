import OnboardCore
import OnboardEval
import OnboardSensors
import OnboardTestSupport
import XCTest

/// Every figure of the committed devkit `metrics_summary.json` files (tools/make_eval_fixtures.py ran
/// nuscenes-devkit 1.2.0 on them) reproduced within 1e-4, NaN where the devkit has NaN.
final class DevkitFixtureTests: XCTestCase {
    static let directory = TestPaths.fixture("nuscenes-eval")
    static let dataroot = directory + "/data"
    static let version = "v1.0-evalfix"

    func check(results: String, split: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let summary = try DetectionEvaluation.evaluate(
            dataroot: Self.dataroot, version: Self.version, split: split, resultsPath: "\(Self.directory)/\(results).json")
        let expectedPath = "\(Self.directory)/\(results).\(split).metrics_summary.json"
        let expected = MetricsSummary.figures(ofDevkitSummary: try JSONValue.parse(file: expectedPath))
        let actual = summary.figures
        // 10 classes x (4 APs + 1 mean + 5 TP errors) + 5 tp_errors + 5 tp_scores + mean_ap + nd_score.
        XCTAssertEqual(expected.count, 112, expectedPath, file: file, line: line)
        XCTAssertEqual(Set(actual.keys), Set(expected.keys), file: file, line: line)
        var worst = 0.0
        for (name, value) in expected.sorted(by: { $0.key < $1.key }) {
            guard let mine = actual[name] else { continue }
            if value.isNaN {
                XCTAssertTrue(mine.isNaN, "\(name): devkit NaN, got \(mine)", file: file, line: line)
            } else {
                XCTAssertEqual(mine, value, accuracy: 1e-4, "\(name)", file: file, line: line)
                worst = max(worst, abs(mine - value))
            }
        }
        XCTAssertLessThanOrEqual(worst, 1e-4, file: file, line: line)
    }

    func test_perfectResults_matchDevkit() throws { try check(results: "results_perfect", split: "synth_val") }
    func test_perfectResults_oneSceneSplit_matchDevkit() throws { try check(results: "results_perfect", split: "synth_one") }
    func test_noisyResults_matchDevkit() throws { try check(results: "results_noisy", split: "synth_val") }
    func test_noisyResults_oneSceneSplit_matchDevkit() throws { try check(results: "results_noisy", split: "synth_one") }
    func test_wrongClassResults_matchDevkit() throws { try check(results: "results_wrong_class", split: "synth_val") }

    func test_noisyResults_keyFiguresAreTheDevkits() throws {
        // Spot values read from results_noisy.synth_val.metrics_summary.json, so a broken comparison
        // loop cannot hide a wrong metric.
        let summary = try DetectionEvaluation.evaluate(
            dataroot: Self.dataroot, version: Self.version, split: "synth_val",
            resultsPath: Self.directory + "/results_noisy.json")
        XCTAssertEqual(summary.meanAP, 0.47321048862624443, accuracy: 1e-9)
        XCTAssertEqual(summary.ndScore, 0.535997256175118, accuracy: 1e-9)
        XCTAssertTrue(summary.labelTPErrors["traffic_cone"]?["orient_err"]?.isNaN ?? false)
        XCTAssertTrue(summary.labelTPErrors["barrier"]?["vel_err"]?.isNaN ?? false)
        XCTAssertEqual(summary.labelTPErrors["barrier"]?["orient_err"] ?? -1, 0.152, accuracy: 1e-3)
    }
}
