import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `--shard` and `onboard merge` from the command line: the merged bundle equals one run's, and
/// bad shards and part sets are clear errors.
final class MergeCommandTests: XCTestCase {
    var directory = ""
    let model = TestPaths.fixture("vit/cls_token")

    override func setUp() { directory = TestPaths.temporaryDirectory("merge") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func calibrationSet(_ count: Int) throws -> String {
        let set = "\(directory)/calibration"
        try FileManager.default.createDirectory(atPath: set, withIntermediateDirectories: true)
        var random = TestRandom(seed: 2)
        for i in 0..<count {
            try SafeTensorsWriter.write([("pixel_values", random.gaussian([1, 3, 32, 32]))], to: "\(set)/\(i).safetensors")
        }
        return set
    }

    func test_shardedQuantizeMergesIntoOneRunsBundle() throws {
        let set = try calibrationSet(5)
        let single = try Onboard.run(["quantize", "--model", model, "--calibration", set, "--out", "\(directory)/single", "--threads", "2"])
        XCTAssertEqual(single.status, 0, single.stderr)
        var parts: [String] = []
        for index in [1, 0] {
            let part = "\(directory)/part-\(index)"
            let run = try Onboard.run(["quantize", "--model", model, "--calibration", set, "--out", part, "--shard", "\(index)/2",
                                       "--threads", "1"])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stderr.contains("quantize: wrote part \(index)/2 \(part): \(index == 0 ? 2 : 3) calibration samples observed"),
                          run.stderr)
            parts.append(part)
        }
        let merge = try Onboard.run(["merge", "--out", "\(directory)/merged"] + parts)
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stdout.contains("from 2 parts (5 calibration samples)"), merge.stdout)
        XCTAssertTrue(merge.stdout.contains("shard 1/2: "), merge.stdout)
        for name in ["quant.json", "model.safetensors"] {
            XCTAssertEqual(FileManager.default.contents(atPath: "\(directory)/merged/\(name)"),
                           FileManager.default.contents(atPath: "\(directory)/single/\(name)"), name)
        }
        assertUserError(try Onboard.run(["merge", "--out", "\(directory)/again", parts[0]]), status: 1,
                        contains: "merge: 1 of 2 shards missing (0/2); run them and merge again")
        assertUserError(try Onboard.run(["merge", "--out", "\(directory)/again", parts[0], set]), status: 1,
                        contains: "part.json: missing: not a part written by a sharded run")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/again"))
    }

    /// Floats depend on the kernel paths, so parts made on other ISA levels are not merged. (On a
    /// CPU whose best level is the scalar one, both parts run the same paths and merge.)
    func test_partsOfOtherKernelPathsAreRefused() throws {
        let set = try calibrationSet(2)
        func part(_ index: Int, isa: String) throws -> String {
            let out = "\(directory)/part-\(index)"
            let run = try Onboard.run(["quantize", "--model", model, "--calibration", set, "--out", out, "--shard", "\(index)/2"],
                                      environment: ["ONBOARD_ISA": isa])
            XCTAssertEqual(run.status, 0, run.stderr)
            return out
        }
        let parts = [try part(0, isa: ""), try part(1, isa: "scalar")]
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(parts[0])/part.json")))
                                     as? [String: Any])
        let active = ((manifest["identity"] as? [String: Any])?["numerics"] as? [String: Any]).flatMap { ($0["kernels"] as? [String: Any])?["active"] as? String }
        let merge = try Onboard.run(["merge", "--out", "\(directory)/merged"] + parts)
        if active == "scalar" {
            XCTAssertEqual(merge.status, 0, merge.stderr)
        } else {
            assertUserError(merge, status: 1, contains: "identity.numerics: 'kernels scalar")
        }
    }

    func test_badShardsAndOptionsAreUsageErrors() throws {
        let set = try calibrationSet(1)
        for (shard, reason) in [("2/2", "the index must be in 0..<2 (got 2)"), ("0/0", "the shard count must be >= 1"), ("x", "expected I/N")] {
            assertUserError(try Onboard.run(["quantize", "--model", model, "--calibration", set, "--out", "\(directory)/q", "--shard", shard]),
                            status: 2, contains: reason)
        }
        let ema = "\(directory)/ema.json"
        try Data(#"{"observer": "ema"}"#.utf8).write(to: URL(fileURLWithPath: ema))
        assertUserError(try Onboard.run(["quantize", "--model", model, "--calibration", set, "--recipe", ema, "--out", "\(directory)/q",
                                         "--shard", "0/2"]),
                        status: 1, contains: "the ema observer's running average depends on the order of the batches", afterProgress: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/q"))
        assertUserError(try Onboard.run(["merge", "--out", "\(directory)/m"]), status: 2, contains: "Missing expected argument '<parts> ...'")
        assertUserError(try Onboard.run(["validate", "--model", model, "--data", set, "--calibration", set, "--quantized", set,
                                         "--out", "\(directory)/v"]),
                        status: 2, contains: "give one of --calibration and --quantized")
        let version = try Onboard.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), OnboardVersion.current)
    }
}
