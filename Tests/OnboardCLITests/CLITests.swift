import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

final class CLITests: XCTestCase {
    var directory = ""
    let fixture = TestPaths.fixture("vit/deit_distilled")

    override func setUp() { directory = TestPaths.temporaryDirectory("cli") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func test_runWritesTheModelOutputs() throws {
        let out = "\(directory)/out.safetensors"
        let result = try Onboard.run(["run", "--model", fixture, "--inputs", "\(fixture)/inputs.safetensors", "--out", out, "--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let logits = try SafeTensorsFile(path: out).tensor("logits")
        let expected = try SafeTensorsFile(path: "\(fixture)/expected.safetensors").tensor("logits")
        XCTAssertEqual(logits.shape, expected.shape)
        let (error, magnitude) = maxErrors(logits.floats(), expected.floats())
        XCTAssertLessThanOrEqual(error, 1e-4 * magnitude)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["out.safetensors"])
    }

    func test_runRejectsBadInputsWithOneLine() throws {
        let out = "\(directory)/out.safetensors"
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", "\(directory)/none.safetensors", "--out", out]),
                        status: 1, contains: "none.safetensors")
        let wrong = "\(directory)/wrong.safetensors"
        try SafeTensorsWriter.write([("pixel_values", Tensor(zeros: [1, 3, 16, 16]))], to: wrong)
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", wrong, "--out", out]),
                        status: 1, contains: "pixel_values: shape [1, 3, 16, 16], model expects [1, 3, 32, 32]")
        let nan = "\(directory)/nan.safetensors"
        let values = try Tensor(shape: [1, 3, 32, 32], values: [Float](repeating: .nan, count: 3072))
        try SafeTensorsWriter.write([("pixel_values", values)], to: nan)
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", nan, "--out", out]),
                        status: 1, contains: "pixel_values: element 0 is not finite")
        assertUserError(try Onboard.run(["run", "--model", directory, "--inputs", nan, "--out", out]),
                        status: 1, contains: "config.json")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func test_helpExitsZero() throws {
        let result = try Onboard.run(["--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("SUBCOMMANDS") && result.stdout.contains("quantize"), result.stdout)
        XCTAssertEqual(try Onboard.run(["bench", "--help"]).status, 0)
    }

    func test_usageErrorsExitTwo() throws {
        assertUserError(try Onboard.run(["run", "--inputs", "x"]), status: 2, contains: "--model")
        assertUserError(try Onboard.run(["bench", "--model", fixture, "--threads", "0"]), status: 2, contains: "--threads must be >= 1")
        assertUserError(try Onboard.run(["bench", "--model", fixture, "--precision", "fp64"]), status: 2, contains: "fp64")
        assertUserError(try Onboard.run(["frobnicate"]), status: 2, contains: "frobnicate")
    }

    func test_inspectDescribesBundlesAndRejectsCorruptFiles() throws {
        let result = try Onboard.run(["inspect", fixture])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("architecture: \"vit\""), result.stdout)
        XCTAssertTrue(result.stdout.contains("dist_token"), result.stdout)
        let tokenLine = result.stdout.split(separator: "\n").first { $0.contains("dist_token") } ?? ""
        XCTAssertTrue(tokenLine.contains("F32") && tokenLine.contains("[1, 1, 32]"), String(tokenLine))
        let corrupt = "\(directory)/corrupt.safetensors"
        try AtomicFile(path: corrupt).write(bytes: [200, 0, 0, 0, 0, 0, 0, 0, 123])
        assertUserError(try Onboard.run(["inspect", corrupt]), status: 1, contains: "corrupt.safetensors: header length 200 exceeds")
    }

    func test_benchJSONCarriesTheContractKeys() throws {
        let result = try Onboard.run(["bench", "--model", fixture, "--iterations", "3", "--threads", "1", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for key in ["model", "precision", "threads", "median_ms", "p90_ms", "weights_bytes", "activation_peak_bytes", "peak_rss_bytes"] {
            XCTAssertNotNil(object[key], key)
        }
        XCTAssertEqual(object["precision"] as? String, "fp32")
        XCTAssertEqual(object["threads"] as? Int, 1)
        let weights = try SafeTensorsFile(path: "\(fixture)/model.safetensors").entries.reduce(0) { $0 + $1.end - $1.begin }
        // The distillation/class tokens are tiled over the batch (1 here): weights equal the file's f32 bytes.
        XCTAssertEqual(object["weights_bytes"] as? Int, weights)
        XCTAssertGreaterThan(object["activation_peak_bytes"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(object["median_ms"] as? Double ?? 0, 0)
        XCTAssertGreaterThanOrEqual(object["p90_ms"] as? Double ?? 0, object["median_ms"] as? Double ?? .infinity)
        XCTAssertGreaterThan(object["peak_rss_bytes"] as? Int ?? 0, 1 << 20)
    }
}

final class ViTDemoCommandTests: XCTestCase {
    func test_vitDemoRunsTheShippedModelAndChecksItAgainstTimm() throws {
        let result = try Onboard.run(["demo-vit", "--iterations", "1", "--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("fidelity vs PyTorch/timm"), result.stdout)
        XCTAssertTrue(result.stdout.contains("latency: median"), result.stdout)
    }

    func test_vitDemoWithoutTheShippedFilesIsAClearError() throws {
        let empty = TestPaths.temporaryDirectory("demo")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        assertUserError(try Onboard.run(["demo-vit", "--model", empty]), status: 1, contains: "config.json")
    }
}
