import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `onboard run`, `bench` and `profile` on a Vision Mamba bundle (the stride-8 Vim fixture).
final class VimCommandTests: XCTestCase {
    var directory = ""
    let fixture = TestPaths.fixture("vim/stride8")

    override func setUp() { directory = TestPaths.temporaryDirectory("vim-cli") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func test_runWritesTheReferenceLogits() throws {
        let out = "\(directory)/out.safetensors"
        let result = try Onboard.run(["run", "--model", fixture, "--inputs", "\(fixture)/inputs.safetensors", "--out", out, "--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let logits = try SafeTensorsFile(path: out).tensor("logits")
        let expected = try SafeTensorsFile(path: "\(fixture)/expected.safetensors").tensor("logits")
        XCTAssertEqual(logits.shape, [2, 10])
        let (error, magnitude) = maxErrors(logits.floats(), expected.floats())
        XCTAssertLessThanOrEqual(error, 1e-4 * magnitude)
    }

    func test_runNamesAWrongImageSize() throws {
        let wrong = "\(directory)/wrong.safetensors"
        try SafeTensorsWriter.write([("pixel_values", Tensor(zeros: [1, 3, 48, 64]))], to: wrong)
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", wrong, "--out", "\(directory)/out.safetensors"]),
                        status: 1, contains: "wrong.safetensors: pixel_values: shape [1, 3, 48, 64], model expects [1, 3, 64, 48]")
    }

    func test_benchAndProfileTimeTheScans() throws {
        let bench = try Onboard.run(["bench", "--model", fixture, "--iterations", "2", "--threads", "1", "--json"])
        XCTAssertEqual(bench.status, 0, bench.stderr)
        let profile = try Onboard.run(["profile", "--model", fixture, "--runs", "2", "--warmup", "0", "--threads", "1", "--json"])
        XCTAssertEqual(profile.status, 0, profile.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(profile.stdout.utf8)) as? [String: Any])
        let ops = try XCTUnwrap(report["ops"] as? [[String: Any]])
        // Two layers, each with a forward and a reverse scan.
        let scans = ops.filter { $0["kind"] as? String == "selective_scan" }
        XCTAssertEqual(scans.map { $0["name"] as? String ?? "" },
                       ["layers.0.mixer.scan", "layers.0.mixer.scan_b", "layers.1.mixer.scan", "layers.1.mixer.scan_b"])
        XCTAssertEqual(ops.filter { $0["kind"] as? String == "causal_conv1d" }.count, 4)
        XCTAssertEqual(ops.filter { $0["kind"] as? String == "rmsnorm" }.count, 3)
    }
}
