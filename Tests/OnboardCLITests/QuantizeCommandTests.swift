import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// quantize -> bench --precision int8 -> compare, and the errors on bad input.
final class QuantizeCommandTests: XCTestCase {
    var directory = ""
    let model = TestPaths.fixture("vit/cls_token")

    override func setUp() { directory = TestPaths.temporaryDirectory("quantize") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// A calibration directory of `count` random inputs for the fixture.
    func calibrationSet(_ count: Int, poison: Bool = false) throws -> String {
        let set = "\(directory)/calibration-\(count)\(poison ? "-poisoned" : "")"
        try FileManager.default.createDirectory(atPath: set, withIntermediateDirectories: true)
        var random = TestRandom(seed: 1)
        for i in 0..<count {
            let x = random.gaussian([1, 3, 32, 32])
            if poison && i == count - 1 { x.floatPointer[5] = .infinity }
            try SafeTensorsWriter.write([("pixel_values", x)], to: "\(set)/\(i).safetensors")
        }
        return set
    }

    func test_quantizeBenchAndCompare() throws {
        let out = "\(directory)/int8"
        let quantize = try Onboard.run(["quantize", "--model", model, "--calibration", try calibrationSet(4), "--out", out, "--threads", "2"])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertTrue(quantize.stderr.contains("calibration: 4/4"), quantize.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/quant.json"))

        let bench = try Onboard.run(["bench", "--model", out, "--precision", "int8", "--iterations", "2", "--threads", "1", "--json"])
        XCTAssertEqual(bench.status, 0, bench.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["precision"] as? String, "int8")
        let floatBench = try Onboard.run(["bench", "--model", model, "--iterations", "2", "--threads", "1", "--json"])
        let floatReport = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(floatBench.stdout.utf8)) as? [String: Any])
        // Weights and the planned peak are smaller (on this tiny model the arena alone is not: it also
        // holds the integer kernels' work areas).
        func peak(_ report: [String: Any]) -> Int? {
            (report["weights_bytes"] as? Int).flatMap { weights in (report["activation_peak_bytes"] as? Int).map { weights + $0 } }
        }
        XCTAssertLessThan(report["weights_bytes"] as? Int ?? .max, floatReport["weights_bytes"] as? Int ?? 0)
        XCTAssertLessThan(peak(report) ?? .max, peak(floatReport) ?? 0)

        let compare = try Onboard.run(["compare", "--model", model, "--quantized", out, "--inputs", "\(model)/inputs.safetensors",
                                       "--exclude", "head", "blocks.1.mlp.fc2", "--json", "--threads", "2"])
        // The fixture's inputs hold a batch of 2: the model is rebuilt for it.
        XCTAssertEqual(compare.status, 0, compare.stderr)
        let diagnosis = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [String: Any])
        let tensors = try XCTUnwrap(diagnosis["tensors"] as? [[String: Any]])
        XCTAssertGreaterThan(tensors.count, 20)
        let sqnrs = tensors.compactMap { ($0["accumulated"] as? [String: Any])?["sqnr_db"] as? Double }
        XCTAssertEqual(sqnrs, sqnrs.sorted())
        let exclusions = try XCTUnwrap(diagnosis["exclusions"] as? [[String: Any]])
        XCTAssertEqual(exclusions.map { $0["op"] as? String }, ["head", "blocks.1.mlp.fc2", "head+blocks.1.mlp.fc2"])
        XCTAssertNotNil((diagnosis["outputs"] as? [String: Any])?["logits"])
    }

    func test_badCalibrationRecipesAndPlansAreClearErrors() throws {
        let out = "\(directory)/int8"
        let empty = "\(directory)/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertUserError(try Onboard.run(["quantize", "--model", model, "--calibration", empty, "--out", out]),
                        status: 1, contains: "the calibration set is empty")
        assertUserError(try Onboard.run(["quantize", "--model", model, "--calibration", try calibrationSet(3, poison: true), "--out", out]),
                        status: 1, contains: "2.safetensors: pixel_values: element 5 is not finite", afterProgress: true)
        let recipe = "\(directory)/recipe.json"
        try AtomicFile(path: recipe).write(string: #"{"keep_float": ["blocks.9.attn"]}"#)
        assertUserError(try Onboard.run(["quantize", "--model", model, "--calibration", try calibrationSet(2), "--recipe", recipe, "--out", out]),
                        status: 1, contains: "recipe.json: keep_float: the model has no op named 'blocks.9.attn'")
        try AtomicFile(path: recipe).write(string: #"{"observer": "magic"}"#)
        assertUserError(try Onboard.run(["quantize", "--model", model, "--calibration", try calibrationSet(2), "--recipe", recipe, "--out", out]),
                        status: 1, contains: "recipe.json")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written half")
        assertUserError(try Onboard.run(["bench", "--model", model, "--precision", "int8"]), status: 1, contains: "needs a quantized bundle")

        // A plan that does not match the model: quantize one fixture, then pair its plan with another model.
        let good = try Onboard.run(["quantize", "--model", model, "--calibration", try calibrationSet(2), "--out", out])
        XCTAssertEqual(good.status, 0, good.stderr)
        let other = "\(directory)/other"
        let source = TestPaths.fixture("vit/reg_gap")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors"] { try FileManager.default.copyItem(atPath: "\(source)/\(file)", toPath: "\(other)/\(file)") }
        try FileManager.default.copyItem(atPath: "\(out)/quant.json", toPath: "\(other)/quant.json")
        assertUserError(try Onboard.run(["bench", "--model", other, "--precision", "int8"]), status: 1, contains: "quant.json")
    }
}
