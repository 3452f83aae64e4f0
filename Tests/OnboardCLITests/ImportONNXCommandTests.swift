import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `onboard import-onnx` as a user runs it: the bundle it writes runs, quantizes and benchmarks
/// like any other, and bad arguments or files are one line.
final class ImportONNXCommandTests: XCTestCase {
    var directory = ""
    let fixture = "mobilenet_v3_small"

    override func setUp() { directory = TestPaths.temporaryDirectory("cli-onnx") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func test_importedBundleRunsQuantizesAndBenchmarks() throws {
        let bundle = "\(directory)/bundle", onnx = TestPaths.fixture("onnx/\(fixture).onnx")
        let imported = try Onboard.run(["import-onnx", onnx, "--out", bundle, "--input", "input=1x3x64x64"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.contains("inputs:  input [1, 3, 64, 64]"), imported.stdout)

        let reference = try SafeTensorsFile(path: TestPaths.fixture("onnx/\(fixture).safetensors"))
        let inputs = "\(directory)/inputs.safetensors", out = "\(directory)/out.safetensors"
        try SafeTensorsWriter.write([("input", try reference.tensor("input"))], to: inputs)
        let run = try Onboard.run(["run", "--model", bundle, "--inputs", inputs, "--out", out, "--threads", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let (error, magnitude) = maxErrors(try SafeTensorsFile(path: out).tensor("output").floats(), try reference.tensor("output").floats())
        XCTAssertLessThanOrEqual(error, 1e-4 * magnitude)

        let calibration = "\(directory)/calibration"
        try FileManager.default.createDirectory(atPath: calibration, withIntermediateDirectories: true)
        var random = TestRandom(seed: 3)
        for i in 0..<4 { try SafeTensorsWriter.write([("input", random.gaussian([1, 3, 64, 64]))], to: "\(calibration)/\(i).safetensors") }
        let quantized = "\(directory)/int8"
        let quantize = try Onboard.run(["quantize", "--model", bundle, "--calibration", calibration, "--out", quantized, "--threads", "2"])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        let int8 = try Onboard.run(["run", "--model", quantized, "--precision", "int8", "--inputs", inputs, "--out", out, "--threads", "2"])
        XCTAssertEqual(int8.status, 0, int8.stderr)
        let (int8Error, _) = maxErrors(try SafeTensorsFile(path: out).tensor("output").floats(), try reference.tensor("output").floats())
        XCTAssertGreaterThan(int8Error, 0)
        XCTAssertLessThan(int8Error, 0.1 * magnitude)
        let bench = try Onboard.run(["bench", "--model", quantized, "--precision", "int8", "--iterations", "2", "--warmup", "1", "--threads", "2"])
        XCTAssertEqual(bench.status, 0, bench.stderr)
    }

    func test_badArgumentsAndFilesAreOneLine() throws {
        let onnx = TestPaths.fixture("onnx/\(fixture).onnx"), bundle = "\(directory)/bundle"
        assertUserError(try Onboard.run(["import-onnx", onnx, "--out", bundle, "--input", "input=1xthree"]),
                        status: 2, contains: "input=1xthree")
        assertUserError(try Onboard.run(["import-onnx", onnx, "--out", bundle, "--input", "pixels=1x3x64x64"]),
                        status: 1, contains: "has no input 'pixels'")
        let junk = "\(directory)/junk.onnx"
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: junk))
        assertUserError(try Onboard.run(["import-onnx", junk, "--out", bundle]), status: 1, contains: "not a readable ONNX model")
        XCTAssertFalse(FileManager.default.fileExists(atPath: bundle))

        XCTAssertEqual(try Onboard.run(["import-onnx", onnx, "--out", bundle]).status, 0)
        let inputs = "\(directory)/two.safetensors"
        try SafeTensorsWriter.write([("input", Tensor(zeros: [2, 3, 64, 64]))], to: inputs)
        assertUserError(try Onboard.run(["run", "--model", bundle, "--inputs", inputs, "--out", "\(directory)/o.safetensors"]),
                        status: 1, contains: "input: shape [2, 3, 64, 64], model expects [1, 3, 64, 64]")
        assertUserError(try Onboard.run(["bench", "--model", bundle, "--batch", "2", "--iterations", "1"]),
                        status: 1, contains: "written for batch 1, not 2")
    }

    func test_exportWritesONNXAndRefusesOpsWithoutASpelling() throws {
        let out = "\(directory)/model.onnx"
        let exported = try Onboard.run(["export-onnx", "--model", TestPaths.fixture("vit/deit_distilled"), "--out", out, "--batch", "3"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let bundle = "\(directory)/reimported"
        XCTAssertEqual(try Onboard.run(["import-onnx", out, "--out", bundle]).status, 0)
        let inputs = TestPaths.fixture("vit/deit_distilled/inputs.safetensors"), result = "\(directory)/out.safetensors"
        let run = try Onboard.run(["run", "--model", bundle, "--inputs", inputs, "--out", result, "--threads", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let expected = try SafeTensorsFile(path: TestPaths.fixture("vit/deit_distilled/expected.safetensors")).tensor("logits")
        let (error, magnitude) = maxErrors(try SafeTensorsFile(path: result).tensor("logits").floats(), expected.floats())
        XCTAssertLessThanOrEqual(error, 1e-4 * magnitude)

        assertUserError(try Onboard.run(["export-onnx", "--model", TestPaths.fixture("vim/patch16"), "--out", "\(directory)/vim.onnx"]),
                        status: 1, contains: "has no ONNX export yet")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/vim.onnx"))
    }

    func test_exportRefusesALowBitPlanItCannotExpress() throws {
        let model = TestPaths.fixture("vit/deit_distilled"), calibration = "\(directory)/calibration"
        try FileManager.default.createDirectory(atPath: calibration, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(model)/inputs.safetensors", toPath: "\(calibration)/0.safetensors")
        let recipe = "\(directory)/adfq.json"
        try Data(#"{"low_bit": {"scope": ["blocks."], "activation_bits": 4, "post_gelu": "shift_log2"}}"#.utf8).write(to: URL(fileURLWithPath: recipe))
        let quantized = try Onboard.run(["quantize", "--model", model, "--calibration", calibration, "--recipe", recipe, "--out", "\(directory)/q"])
        XCTAssertEqual(quantized.status, 0, quantized.stderr)
        assertUserError(try Onboard.run(["export-onnx", "--model", model, "--quantized", "\(directory)/q", "--out", "\(directory)/q.onnx"]),
                        status: 1, contains: "low_bit")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/q.onnx"))
    }

    /// QANS logits are exported as the values their codes hold (`x - ReduceMax(x)` before the pair);
    /// a deferred softmax has no QDQ form and is refused. (ONNX Runtime runs such an export in
    /// tools/check_detector_onnx.py.)
    func test_exportSpellsStabilizedLogitsAndRefusesADeferredSoftmax() throws {
        let model = TestPaths.fixture("vit/deit_distilled"), calibration = "\(directory)/calibration"
        try FileManager.default.createDirectory(atPath: calibration, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(model)/inputs.safetensors", toPath: "\(calibration)/0.safetensors")
        for (name, recipe) in [("plain", #"{}"#), ("stabilized", #"{"softmax_input": "stabilized"}"#),
                               ("deferred", #"{"softmax_input": "stabilized", "softmax_output": "deferred"}"#)] {
            try Data(recipe.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).json"))
            let quantized = try Onboard.run(["quantize", "--model", model, "--calibration", calibration, "--recipe", "\(directory)/\(name).json",
                                             "--out", "\(directory)/\(name)"])
            XCTAssertEqual(quantized.status, 0, quantized.stderr)
        }
        func export(_ name: String) throws -> (status: Int32, stderr: String, bytes: Data?) {
            let out = "\(directory)/\(name).onnx"
            let result = try Onboard.run(["export-onnx", "--model", model, "--quantized", "\(directory)/\(name)", "--out", out])
            return (result.status, result.stderr, FileManager.default.contents(atPath: out))
        }
        let plain = try export("plain"), stabilized = try export("stabilized")
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(stabilized.status, 0, stabilized.stderr)
        let reduceMax = Data("ReduceMax".utf8), rowMax = Data("blocks.0.attn.scores/row_max".utf8)
        XCTAssertNil(try XCTUnwrap(plain.bytes).range(of: reduceMax))
        XCTAssertNotNil(try XCTUnwrap(stabilized.bytes).range(of: rowMax))
        assertUserError(try Onboard.run(["export-onnx", "--model", model, "--quantized", "\(directory)/deferred", "--out", "\(directory)/deferred.onnx"]),
                        status: 1, contains: "softmax_output \"deferred\"")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/deferred.onnx"))
    }

    /// A QDQ model from ONNX Runtime's quantize_static: the INT8 bundle `--quantized-out` writes runs
    /// (`run`, `bench`) with the file's parameters and gives ORT's outputs; it exports back to QDQ.
    func test_qdqModelWritesAnINT8BundleThatRuns() throws {
        let name = "vit_tiny_opset17_qdq_u8", onnx = TestPaths.fixture("onnx/\(name).onnx")
        let bundle = "\(directory)/float", quantized = "\(directory)/int8"
        let imported = try Onboard.run(["import-onnx", onnx, "--out", bundle, "--quantized-out", quantized, "--input", "input=4x3x32x32"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.contains("wrote \(quantized): INT8 with the file's parameters for"), imported.stdout)
        XCTAssertTrue(imported.stdout.contains("kept in float (the file computes them in float)"), imported.stdout)

        let reference = try SafeTensorsFile(path: TestPaths.fixture("onnx/\(name).safetensors"))
        let inputs = "\(directory)/inputs.safetensors", out = "\(directory)/out.safetensors"
        try SafeTensorsWriter.write([("input", try reference.tensor("input"))], to: inputs)
        let run = try Onboard.run(["run", "--model", quantized, "--precision", "int8", "--inputs", inputs, "--out", out, "--threads", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let plan = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(quantized)/quant.json"))) as? [String: Any]
        let step = try XCTUnwrap(((plan?["activations"] as? [String: Any])?["output"] as? [String: Any])?["scale"] as? Double)
        let (error, _) = maxErrors(try SafeTensorsFile(path: out).tensor("output").floats(), try reference.tensor("output").floats())
        XCTAssertLessThanOrEqual(Double(error), step * 1.001)
        let bench = try Onboard.run(["bench", "--model", quantized, "--precision", "int8", "--batch", "4", "--iterations", "2", "--warmup", "1",
                                     "--threads", "2"])
        XCTAssertEqual(bench.status, 0, bench.stderr)
        let exported = try Onboard.run(["export-onnx", "--model", bundle, "--quantized", quantized, "--out", "\(directory)/again.onnx"])
        XCTAssertEqual(exported.status, 0, exported.stderr)

        let float = TestPaths.fixture("onnx/resnet_tiny.onnx")
        assertUserError(try Onboard.run(["import-onnx", float, "--out", "\(directory)/f", "--quantized-out", "\(directory)/q"]),
                        status: 1, contains: "has no QuantizeLinear/DequantizeLinear pairs")
        assertUserError(try Onboard.run(["import-onnx", onnx, "--out", "\(directory)/same", "--quantized-out", "\(directory)/same"]),
                        status: 1, contains: "quantized-out")
    }
}
