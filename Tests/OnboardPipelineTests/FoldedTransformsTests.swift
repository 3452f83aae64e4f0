import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardPipeline
import OnboardQuant
import OnboardTestSupport
import XCTest

/// A recipe's `rotation` and `smoothing` quantize the transformed float bundle: the quantized
/// bundle carries its weights, the rotation and the gate scales, and models without a Vim trunk
/// are refused.
final class FoldedTransformsTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("rotation") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    let recipes = (TestPaths.root as NSString).appendingPathComponent("Configs/recipes")

    /// The fixture's input and three scaled, shifted copies as a calibration directory.
    func calibration(for model: String) throws -> String {
        let calibration = "\(directory)/calibration"
        try FileManager.default.createDirectory(atPath: calibration, withIntermediateDirectories: true)
        let pixels = try SafeTensorsFile(path: "\(model)/inputs.safetensors").tensor("pixel_values")
        for i in 0..<4 {
            let copy = try Tensor(shape: pixels.shape, values: pixels.floats().enumerated().map { j, v in
                v * Float(0.6 + 0.2 * Double(i)) + Float((j * 7 + i) % 13) / 26 - 0.25
            })
            try SafeTensorsWriter.write([("pixel_values", copy)], to: "\(calibration)/\(i).safetensors")
        }
        return calibration
    }

    func quantize(_ model: String, recipe: String, out: String) throws -> ModelBundle {
        var request = BundleQuantization.Request(model: model, calibration: try calibration(for: model), out: out)
        (request.recipe, request.threads) = ("\(recipes)/\(recipe).json", 2)
        try BundleQuantization.run(request, log: .silent)
        return try ModelBundle(directory: out)
    }

    func test_rotationRecipesQuantizeTheRotatedBundle() throws {
        let model = TestPaths.fixture("vim/stride8")
        let pixels = try SafeTensorsFile(path: "\(model)/inputs.safetensors").tensor("pixel_values")
        let batch = pixels.shape[0]
        let float = try FP32Executor(graph: try ModelBundle(directory: model).graph(batch: batch)).run(["pixel_values": pixels])["logits"]
        let scratch = Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("onboard-transformed-") })
        for recipe in ["vim-int8-naive", "vim-int8-hadamard", "vim-int8-klt-hadamard", "vim-int8-mambaquant"] {
            let bundle = try quantize(model, recipe: recipe, out: "\(directory)/\(recipe)")
            let plan = try XCTUnwrap(try QuantizedBundle.plan(of: bundle))
            let logits = try Int8Executor(graph: try bundle.graph(batch: batch), plan: plan, threads: 2).run(["pixel_values": pixels])["logits"]
            let sqnr = QuantMetrics.sqnr(try XCTUnwrap(float).floats(), try XCTUnwrap(logits).floats())
            print(String(format: "vim/stride8 %@: INT8 logits SQNR %.1f dB", recipe, sqnr))
            XCTAssertGreaterThan(sqnr, 15, recipe)
            let rotationFile = "\(bundle.directory)/\(QuantizedBundle.rotationFile)"
            XCTAssertEqual(FileManager.default.fileExists(atPath: rotationFile), plan.recipe.rotation != nil, recipe)
            guard plan.recipe.rotation != nil else { continue }
            let stored = try SafeTensorsFile(path: rotationFile).tensor("residual_rotation")
            XCTAssertEqual(stored.shape, [32, 32])
            let r = try Matrix(rows: 32, cols: 32, values: stored.floats())
            XCTAssertLessThan(try r.orthogonalityError(), 1e-5, recipe)
            // Norm weights were folded into the rotated layers; the smoothing's gate scales stay float.
            let weights = try SafeTensorsFile(path: bundle.weightsPath)
            XCTAssertEqual(Set(try weights.tensor("layers.0.norm.weight").floats()), [1], recipe)
            XCTAssertEqual(weights.contains("layers.1.mixer.gate_scale"), plan.recipe.smoothing != nil, recipe)
        }
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("onboard-transformed-") })
        XCTAssertTrue(left.isSubset(of: scratch), "scratch bundles left behind: \(left.subtracting(scratch))")
    }

    func test_aModelWithoutAVimTrunkIsRefusedNamingTheRecipe() throws {
        let model = TestPaths.fixture("vit/cls_token")
        XCTAssertThrowsError(try quantize(model, recipe: "vim-int8-hadamard", out: "\(directory)/out")) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(recipes)/vim-int8-hadamard.json: rotation:"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/out"))
    }

    func test_rotationIsNotSharded() throws {
        let model = TestPaths.fixture("vim/stride8")
        var request = BundleQuantization.Request(model: model, calibration: try calibration(for: model), out: "\(directory)/part")
        request.recipe = "\(recipes)/vim-int8-klt-hadamard.json"
        XCTAssertThrowsError(try BundleQuantization.run(request, shard: try Shard(index: 0, count: 2), log: .silent)) { error in
            XCTAssertTrue("\(error)".contains("--shard"), "\(error)")
        }
    }
}

/// `validate` on a PETR detector with a Vision Mamba backbone, with the MambaQuant recipe; then
/// with the INT8 bundle it wrote: the per-layer reference is rebuilt from the rotation and gate
/// scales that bundle carries, so the diagnosis is the same.
final class VimDetectorValidationTests: XCTestCase {
    func test_validateRunsTheVimDetectorWithTheMambaQuantRecipe() throws {
        let set = try PipelineFixtures.petrAndSet()
        let recipes = (TestPaths.root as NSString).appendingPathComponent("Configs/recipes")
        var options = ValidationOptions(model: TestPaths.fixture("demo-petr/vim_qfpe"), data: set.data, calibration: set.data,
                                        out: "\(set.root)/vim-validation")
        (options.threads, options.diagnosisSamples, options.bootstrapReplicates, options.latencySamples) = (2, 1, 0, 1)
        options.recipe = "\(recipes)/vim-int8-mambaquant.json"
        let lines = LogLines()
        let report = try ValidationRun.run(options, log: lines.log)
        XCTAssertTrue(lines.text.contains("rotation: klt_hadamard of the 32-channel residual stream"), lines.text)
        XCTAssertTrue(lines.text.contains("smoothing: scaled SiLU gates and out_proj inputs of 2 layers"), lines.text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(options.out)/model-int8/rotation.safetensors"))
        XCTAssertTrue(report.floatOps.contains("img_backbone.layers.0.mixer.scan"), "\(report.floatOps)")
        let kinds = Dictionary(report.layers.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(kinds["img_backbone.layers.1.mixer.in_proj_gates"], "linear", "the smoothing splits in_proj")
        XCTAssertLessThan(report.weightsBytes.int8, report.weightsBytes.fp32)

        var again = options
        (again.recipe, again.quantized, again.out) = (nil, "\(options.out)/model-int8", "\(set.root)/vim-validation-again")
        let rerun = try ValidationRun.run(again, log: .silent)
        XCTAssertEqual(rerun.layers, report.layers)
        XCTAssertEqual(rerun.int8.meanAP, report.int8.meanAP)
    }
}
