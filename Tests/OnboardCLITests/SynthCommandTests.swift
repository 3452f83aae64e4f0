import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

final class SynthCommandTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("cli-synth") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func synth(_ out: String, seed: Int = 4, extra: [String] = []) throws -> CommandResult {
        try Onboard.run(["synth", "--out", out, "--scenes", "1", "--samples-per-scene", "2", "--seed", "\(seed)",
                         "--rig", "tiny-2cam", "--version", "v1.0-cli", "--threads", "2"] + extra)
    }

    func tree(_ root: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: "\(root)/\(relative)") { out[relative] = data }
        }
        return out
    }

    func test_synthWritesACompleteSetDeterministically() throws {
        let first = try synth("\(directory)/a"), second = try synth("\(directory)/b")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(first.stderr.contains("scene-0001 sample 2/2"), first.stderr)
        let a = tree("\(directory)/a"), b = tree("\(directory)/b")
        for table in ["category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
                      "scene", "sample", "sample_data", "sample_annotation", "map", "splits"] {
            XCTAssertNotNil(a["v1.0-cli/\(table).json"], table)
        }
        XCTAssertEqual(a.keys.filter { $0.hasSuffix(".jpg") }.count, 4)
        XCTAssertEqual(a, b)
        let splits = try JSONSerialization.jsonObject(with: try XCTUnwrap(a["v1.0-cli/splits.json"])) as? [String: [String]]
        XCTAssertEqual(splits?["synth_val"], ["scene-0001"])
    }

    func test_synthRejectsBadArgumentsWithOneLine() throws {
        assertUserError(try Onboard.run(["synth", "--out", "\(directory)/x", "--scenes", "0", "--samples-per-scene", "1",
                                         "--seed", "1"]), status: 2, contains: "--scenes")
        assertUserError(try synth(directory), status: 1, contains: "already exists")
        assertUserError(try synth("\(directory)/y", extra: ["--rig", "\(directory)/nope.json"]), status: 1, contains: "nope")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/y"))
    }

    func test_preprocessWritesTheNetworkTensorAndNamesABadImage() throws {
        XCTAssertEqual(try synth("\(directory)/set").status, 0)
        let jpegs = tree("\(directory)/set").keys.filter { $0.hasSuffix(".jpg") }.sorted().prefix(2).map { "\(directory)/set/\($0)" }
        let out = "\(directory)/images.safetensors"
        let result = try Onboard.run(["preprocess", "--images"] + jpegs + ["--size", "80x32", "--out", out, "--iterations", "2", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("\"frames_per_second\""), result.stdout)
        XCTAssertEqual(try SafeTensorsFile(path: out).tensor("images").shape, [2, 3, 32, 80])

        let broken = "\(directory)/broken.jpg"
        try AtomicFile(path: broken).write(bytes: Array(try XCTUnwrap(FileManager.default.contents(atPath: jpegs[0]))).prefix(300).map { $0 })
        assertUserError(try Onboard.run(["preprocess", "--images", jpegs[0], broken, "--size", "80x32"]), status: 1, contains: "broken.jpg")
        assertUserError(try Onboard.run(["preprocess", "--images", jpegs[0], "--size", "80by32"]), status: 2, contains: "--size")
    }
}
