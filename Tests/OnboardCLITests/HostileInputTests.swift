import Foundation
import OnboardTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Hostile files and options through the built binary: each ends in one error line naming the
/// file and item (exit 1, 2 for usage), never a trap, a hang or a silent accept.
final class HostileInputTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("hostile") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    let vit = "Configs/models/vit-demo"

    func test_aFIFOIsRefusedInsteadOfBlocking() throws {
        XCTAssertEqual(mkfifo("\(directory)/model.safetensors", 0o600), 0)
        assertUserError(try Onboard.run(["inspect", "\(directory)/model.safetensors"]), status: 1,
                        contains: "\(directory)/model.safetensors: file is a FIFO, not a regular file")
        assertUserError(try Onboard.run(["profile", "--model", vit, "--board", "\(directory)/model.safetensors", "--runs", "1"]),
                        status: 1, contains: "board file is a FIFO, not a regular file")
    }

    func test_aDeeplyNestedBoardFileIsRefusedBeforeParsing() throws {
        let path = "\(directory)/deep.yaml"
        try Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8).write(to: URL(fileURLWithPath: path))
        assertUserError(try Onboard.run(["profile", "--model", vit, "--board", path, "--runs", "1"]), status: 1,
                        contains: "deep.yaml: line 1: flow collections nest more than 64 levels deep")
        let blocks = (0..<200).map { String(repeating: "  ", count: $0) + "a:" }.joined(separator: "\n")
        try Data(blocks.utf8).write(to: URL(fileURLWithPath: path))
        assertUserError(try Onboard.run(["profile", "--model", vit, "--board", path, "--runs", "1"]), status: 1,
                        contains: "deep.yaml: line 66: blocks nest more than 64 levels deep")
    }

    func test_aBatchBeyondMemoryIsAnErrorNotATrap() throws {
        assertUserError(try Onboard.run(["bench", "--model", vit, "--batch", "4611686018427387904", "--iterations", "1"]), status: 1,
                        contains: "batch 4611686018427387904: image_size: a tensor of shape [4611686018427387904, 3, 224, 224] has more elements than can be addressed")
    }

    func test_threadsAboveTheCoreCountAreClampedWithANote() throws {
        let result = try Onboard.run(["bench", "--model", vit, "--threads", "1000000", "--iterations", "1", "--warmup", "0", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        XCTAssertTrue(result.stderr.contains("onboard: note: --threads 1000000 exceeds the \(cores) cores of this machine; using \(cores)"), result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["threads"] as? Int, cores)
    }

    func test_aCalibrationManifestOutOfRangeNamesTheManifestNotAnOption() throws {
        let path = "\(directory)/calib.json"
        try Data(#"{"synth": {"rig": "demo-6cam", "seed": 1, "scenes": 0, "samples_per_scene": 2, "version": "v1.0-synth"}}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let result = try Onboard.run(["validate", "--model", "Configs/models/petr-demo", "--data", TestPaths.fixture("nuscenes-synth-tiny"), "--calibration", path,
                                      "--out", "\(directory)/out"])
        assertUserError(result, status: 1, contains: "calib.json: synth: scenes: 0 is not in 1...10000")
        XCTAssertFalse(result.stderr.contains("--scenes"), result.stderr)
    }

    func test_aMisspeltRecipeKeyIsRefused() throws {
        let path = "\(directory)/recipe.json"
        try Data(#"{"observr": "percentile"}"#.utf8).write(to: URL(fileURLWithPath: path))
        assertUserError(try Onboard.run(["quantize", "--model", vit, "--calibration", "Calibration/demo-synth-s11.json", "--recipe", path,
                                         "--out", "\(directory)/q"]),
                        status: 1, contains: "recipe.json: observr: unknown field (known: activations,")
    }
}
