import Foundation
import OnboardTestSupport
import XCTest

/// `onboard eval` end to end on the committed nuScenes-format fixture.
final class EvalCommandTests: XCTestCase {
    let fixtures = TestPaths.fixture("nuscenes-eval")
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("cli-eval") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func arguments(results: String, split: String = "synth_val", out: String) -> [String] {
        ["eval", "--data", "\(fixtures)/data", "--version", "v1.0-evalfix", "--split", split, "--results", results, "--out", out]
    }

    func test_eval_writesTheDevkitsSummary() throws {
        let out = "\(directory)/metrics.json"
        let result = try Onboard.run(arguments(results: "\(fixtures)/results_noisy.json", out: out))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("mAP: 0.4732"), result.stdout)
        XCTAssertTrue(result.stdout.contains("NDS: 0.5360"), result.stdout)
        XCTAssertTrue(result.stderr.contains("eval: split synth_val: 7 samples"), result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["metrics.json"])

        // Same keys as the devkit's metrics_summary.json, NaN written as Python's json module writes it.
        let text = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(text.contains("\"vel_err\": NaN"), text)
        let ours = try JSONSerialization.jsonObject(with: Data(text.replacingOccurrences(of: "NaN", with: "null").utf8)) as? [String: Any]
        let devkitText = try String(contentsOfFile: "\(fixtures)/results_noisy.synth_val.metrics_summary.json", encoding: .utf8)
        let devkit = try JSONSerialization.jsonObject(with: Data(devkitText.replacingOccurrences(of: "NaN", with: "null").utf8)) as? [String: Any]
        XCTAssertEqual(Set(ours?.keys ?? [:].keys), Set(devkit?.keys ?? [:].keys))
        let ourAPs = ours?["label_aps"] as? [String: [String: Double]]
        let devkitAPs = devkit?["label_aps"] as? [String: [String: Double]]
        XCTAssertEqual(Set(ourAPs?["car"]?.keys ?? [:].keys), ["0.5", "1.0", "2.0", "4.0"])
        for (name, byThreshold) in devkitAPs ?? [:] {
            for (threshold, ap) in byThreshold {
                XCTAssertEqual(ourAPs?[name]?[threshold] ?? -1, ap, accuracy: 1e-4, "\(name) \(threshold)")
            }
        }
        XCTAssertEqual(ours?["nd_score"] as? Double ?? -1, devkit?["nd_score"] as? Double ?? 1, accuracy: 1e-4)
    }

    func test_eval_rejectsBadInputsWithOneLine() throws {
        let out = "\(directory)/metrics.json"
        assertUserError(try Onboard.run(arguments(results: "\(fixtures)/invalid/results_missing_sample.json", out: out)),
                        status: 1, contains: "results_missing_sample.json: results: missing sample token")
        assertUserError(try Onboard.run(arguments(results: "\(fixtures)/invalid/results_unknown_class.json", out: out)),
                        status: 1, contains: "unknown detection_name spaceship")
        assertUserError(try Onboard.run(arguments(results: "\(directory)/none.json", out: out)),
                        status: 1, contains: "none.json: cannot read file")
        assertUserError(try Onboard.run(arguments(results: "\(fixtures)/results_perfect.json", split: "val", out: out)),
                        status: 1, contains: "splits.json: val: no such split")
        assertUserError(try Onboard.run(["eval", "--data", directory, "--version", "v1.0-evalfix", "--split", "synth_val",
                                         "--results", "\(fixtures)/results_perfect.json", "--out", out]),
                        status: 1, contains: "v1.0-evalfix")
        assertUserError(try Onboard.run(["eval", "--data", directory]), status: 2, contains: "--version")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
