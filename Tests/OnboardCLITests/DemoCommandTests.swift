import Foundation
import OnboardTestSupport
import XCTest

/// `onboard demo` end to end on a small held-out set: the shipped PETR scored, pictures drawn, the
/// shipped Q-PETR validated in INT8, and the set reused on a second run.
final class DemoCommandTests: XCTestCase {
    func test_demoWritesTheReportAndReusesItsSet() throws {
        let work = TestPaths.temporaryDirectory("demo-petr")
        let arguments = ["demo", "--work", work, "--scenes", "5", "--pictures", "1", "--calibration-samples", "2", "--diagnosis-samples", "1", "--threads", "2"]
        let result = try Onboard.run(arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("mAP:"), result.stdout)
        XCTAssertTrue(result.stdout.contains("INT8 validation (Q-PETR)"), result.stdout)
        let report = (work as NSString).appendingPathComponent("report")
        for file in ["index.html", "results_fp32.json", "metrics_fp32.json", "sample-1/bev.svg", "sample-1/CAM_FRONT.svg",
                     "validation/report.json", "validation/index.html", "validation/results_int8.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: (report as NSString).appendingPathComponent(file)), file)
        }
        // The devkit's layout writes undefined figures as the bare token NaN (as Python's json does).
        let text = try String(contentsOfFile: (report as NSString).appendingPathComponent("metrics_fp32.json"), encoding: .utf8)
            .replacingOccurrences(of: "NaN", with: "null")
        let metrics = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertNotNil(metrics["mean_ap"] as? Double)
        let index = try String(contentsOfFile: (report as NSString).appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertFalse(index.contains("http://") || index.contains("https://"), "the report must open offline")

        let again = try Onboard.run(arguments + ["--skip-int8"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("reusing"), again.stderr)
    }

    func test_demoOnANonPETRBundleIsAClearError() throws {
        let work = TestPaths.temporaryDirectory("demo-vit-model")
        let vit = (TestPaths.root as NSString).appendingPathComponent("Configs/models/vit-demo")
        assertUserError(try Onboard.run(["demo", "--model", vit, "--work", work, "--scenes", "2", "--skip-int8"]), status: 1,
                        contains: "not a PETR bundle")
    }
}
