import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `run --delta` serves base + delta with the outputs of the bundle `delta apply` writes; a cut
/// delta is one error line naming it, and --delta does not combine with --shard.
final class DeltaServingCommandTests: XCTestCase {
    var directory = ""
    let fixture = TestPaths.fixture("vit/deit_distilled")

    override func setUp() { directory = TestPaths.temporaryDirectory("delta-serving") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func test_runWithADeltaGivesTheAppliedBundlesOutputs() throws {
        let baseFile = try SafeTensorsFile(path: "\(fixture)/model.safetensors")
        var random = TestRandom(seed: 3)
        let tuned = try baseFile.entries.map { entry -> (String, Tensor) in
            let tensor = baseFile.tensor(entry)
            guard entry.name.hasPrefix("blocks.0."), tensor.dtype.isFloat else { return (entry.name, tensor) }
            return (entry.name, try Tensor(shape: entry.shape, values: tensor.floats().map { $0 + random.generator.nextGaussian() * 0.05 }))
        }
        try SafeTensorsWriter.write(tuned, to: "\(directory)/tuned.safetensors")
        let delta = "\(directory)/delta.safetensors", applied = "\(directory)/applied"
        let compress = try Onboard.run(["delta", "compress", "--base", baseFile.path, "--finetuned", "\(directory)/tuned.safetensors",
                                        "--ratio", "4", "--out", delta])
        XCTAssertEqual(compress.status, 0, compress.stderr)
        try FileManager.default.createDirectory(atPath: applied, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(fixture)/config.json", toPath: "\(applied)/config.json")
        let apply = try Onboard.run(["delta", "apply", "--base", baseFile.path, "--delta", delta, "--out", "\(applied)/model.safetensors"])
        XCTAssertEqual(apply.status, 0, apply.stderr)

        func logits(_ arguments: [String], out: String) throws -> [Float] {
            let result = try Onboard.run(["run", "--inputs", "\(fixture)/inputs.safetensors", "--out", "\(directory)/\(out)", "--threads", "2"]
                                         + arguments)
            XCTAssertEqual(result.status, 0, result.stderr)
            return try SafeTensorsFile(path: "\(directory)/\(out)").tensor("logits").floats()
        }
        let merged = try logits(["--model", fixture, "--delta", delta], out: "merged.safetensors")
        XCTAssertEqual(merged, try logits(["--model", applied], out: "applied.safetensors"))
        XCTAssertNotEqual(merged, try logits(["--model", fixture], out: "base.safetensors"))

        let bytes = try Data(contentsOf: URL(fileURLWithPath: delta))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: "\(directory)/cut.safetensors"))
        assertUserError(try Onboard.run(["run", "--model", fixture, "--delta", "\(directory)/cut.safetensors", "--inputs",
                                         "\(fixture)/inputs.safetensors", "--out", "\(directory)/cut-out.safetensors"]),
                        status: 1, contains: "cut.safetensors")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/cut-out.safetensors"))
    }

    func test_aDeltaDoesNotCombineWithShards() throws {
        assertUserError(try Onboard.run(["quantize", "--model", fixture, "--calibration", directory, "--out", "\(directory)/q",
                                         "--delta", "\(directory)/d.safetensors", "--shard", "0/2"]),
                        status: 2, contains: "--delta runs whole, not in shards")
    }
}
