import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

final class DeltaCommandTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("delta") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// A base model and a fine-tuned one whose delta is heavy-tailed, as fine-tuning deltas are.
    private func writeModels() throws -> (base: String, finetuned: String, tuned: [String: [Float]]) {
        var random = TestRandom(seed: 1)
        let shapes: [String: [Int]] = ["blocks.0.fc1.weight": [256, 256], "blocks.0.fc1.bias": [256], "head.weight": [10, 256, 1, 1]]
        var base: [(String, Tensor)] = [], tuned: [(String, Tensor)] = [], tunedValues: [String: [Float]] = [:]
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            let count = shape.reduce(1, *)
            let b = random.floats(count, scale: 0.1)
            let f = b.map { v -> Float in
                let g = random.generator.nextGaussian()
                return v + (random.generator.nextUniform() < 0.05 ? g * 0.02 : g * 0.0005)
            }
            base.append((name, try Tensor(shape: shape, values: b)))
            tuned.append((name, try Tensor(shape: shape, values: f)))
            tunedValues[name] = f
        }
        let basePath = "\(directory)/base.safetensors", tunedPath = "\(directory)/tuned.safetensors"
        try SafeTensorsWriter.write(base, to: basePath)
        try SafeTensorsWriter.write(tuned, to: tunedPath)
        return (basePath, tunedPath, tunedValues)
    }

    func test_compressThenApplyRebuildsTheFineTunedWeightsAndReportsTheRatio() throws {
        let (base, tuned, expected) = try writeModels()
        let delta = "\(directory)/delta.safetensors", rebuilt = "\(directory)/rebuilt.safetensors"
        let compress = try Onboard.run(["delta", "compress", "--base", base, "--finetuned", tuned, "--ratio", "16", "--out", delta, "--json"])
        XCTAssertEqual(compress.status, 0, compress.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(compress.stdout.utf8)) as? [String: Any])
        let ratio = try XCTUnwrap(report["ratio"] as? Double)
        XCTAssertGreaterThanOrEqual(ratio, 16)  // counted on the file's size on disk
        let tensors = try XCTUnwrap(report["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.count, 3)
        let fc1 = try XCTUnwrap(tensors.first { $0["name"] as? String == "blocks.0.fc1.weight" })
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(fc1["ratio"] as? Double), 16)  // the headers' share comes from the payload
        XCTAssertLessThan(try XCTUnwrap(fc1["relativeError"] as? Double), 0.6)

        let text = try Onboard.run(["delta", "compress", "--base", base, "--finetuned", tuned, "--ratio", "16", "--out", delta])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("ratio") && text.stdout.contains("blocks.0.fc1.weight") && text.stdout.contains("rel_error"), text.stdout)

        let apply = try Onboard.run(["delta", "apply", "--base", base, "--delta", delta, "--out", rebuilt, "--json"])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        let applied = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(apply.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(applied["ratio"] as? Double), ratio, accuracy: 1e-9)
        XCTAssertEqual((applied["tensors"] as? [[String: Any]])?.count, tensors.filter { $0["kind"] as? String == "deltadq" }.count)
        let applyText = try Onboard.run(["delta", "apply", "--base", base, "--delta", delta, "--out", rebuilt])
        XCTAssertTrue(applyText.stdout.contains("delta ratio") && applyText.stdout.contains("head.weight"), applyText.stdout)
        let file = try SafeTensorsFile(path: rebuilt)
        XCTAssertEqual(file.names.sorted(), expected.keys.sorted())
        let maxAbs = try XCTUnwrap(fc1["maxAbsError"] as? Double)
        let (error, _) = maxErrors(try file.tensor("blocks.0.fc1.weight").floats(), expected["blocks.0.fc1.weight"]!)
        XCTAssertEqual(Double(error), maxAbs, accuracy: 1e-6)
        XCTAssertEqual(try file.tensor("head.weight").shape, [10, 256, 1, 1])
    }

    func test_mismatchedTensorsAreRefusedWithOneLine() throws {
        let (base, tuned, _) = try writeModels()
        let out = "\(directory)/delta.safetensors"
        let renamed = "\(directory)/renamed.safetensors", reshaped = "\(directory)/reshaped.safetensors"
        try SafeTensorsWriter.write([("other.weight", Tensor(zeros: [256, 256]))], to: renamed)
        try SafeTensorsWriter.write([("blocks.0.fc1.weight", Tensor(zeros: [128, 512])), ("blocks.0.fc1.bias", Tensor(zeros: [256])),
                                     ("head.weight", Tensor(zeros: [10, 256, 1, 1]))], to: reshaped)
        assertUserError(try Onboard.run(["delta", "compress", "--base", base, "--finetuned", renamed, "--ratio", "16", "--out", out]),
                        status: 1, contains: "other.weight: tensor missing")
        assertUserError(try Onboard.run(["delta", "compress", "--base", base, "--finetuned", reshaped, "--ratio", "16", "--out", out]),
                        status: 1, contains: "blocks.0.fc1.weight: shape [128, 512] differs from the base's [256, 256]")
        assertUserError(try Onboard.run(["delta", "compress", "--base", base, "--finetuned", tuned, "--ratio", "0.5", "--out", out]),
                        status: 2, contains: "--ratio")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        XCTAssertEqual(try Onboard.run(["delta", "compress", "--base", base, "--finetuned", tuned, "--ratio", "8", "--out", out]).status, 0)
        // Another base (other shapes or names) is caught by the base fingerprint the delta stores.
        assertUserError(try Onboard.run(["delta", "apply", "--base", reshaped, "--delta", out, "--out", "\(directory)/f2.safetensors"]),
                        status: 1, contains: "delta.safetensors: __metadata__.base_fingerprint: made from another base")
        assertUserError(try Onboard.run(["delta", "apply", "--base", renamed, "--delta", out, "--out", "\(directory)/f2.safetensors"]),
                        status: 1, contains: "delta.safetensors: __metadata__.base_fingerprint: made from another base")
        assertUserError(try Onboard.run(["delta", "apply", "--base", base, "--delta", base, "--out", "\(directory)/f2.safetensors"]),
                        status: 1, contains: "__metadata__.format: '' is not an Onboard delta")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/f2.safetensors"))
    }
}
