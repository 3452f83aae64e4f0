import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant
import OnboardTestSupport
import XCTest

/// The residual-stream rotation (R1) and the smoothing (S2) leave a Vim classifier's logits and a Vim detector's outputs
/// as they were in float, while every weight it touches changes.
final class VimTransformTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("vim-rotation") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// `source` copied to `directory` with its weights rotated by a random Hadamard matrix.
    func rotatedCopy(of source: String, seed: UInt64) throws -> (bundle: ModelBundle, original: [String: Tensor], rotated: [String: Tensor]) {
        let bundle = try ModelBundle(directory: source)
        let trunk = try XCTUnwrap(bundle.vimTrunk)
        let original = try SafeTensorsFile(path: bundle.weightsPath).allTensors()
        var rotated = original
        try VimRotation.rotate(&rotated, trunk: trunk, by: try RandomHadamard(size: trunk.embedDim, seed: seed).matrix)
        _ = try copyBundle(from: source, to: directory, config: { _ in }) { tensors in
            tensors = tensors.map { ($0.name, rotated[$0.name] ?? $0.tensor) }
        }
        for file in ["inputs.safetensors", "reference.safetensors"] where FileManager.default.fileExists(atPath: "\(source)/\(file)") {
            try FileManager.default.copyItem(atPath: "\(source)/\(file)", toPath: "\(directory)/\(file)")
        }
        return (try ModelBundle(directory: directory), original, rotated)
    }

    func test_rotatedClassifierGivesTheSameLogits() throws {
        let source = TestPaths.fixture("vim/stride8")
        let (rotated, original, weights) = try rotatedCopy(of: source, seed: 3)
        let pixels = try SafeTensorsFile(path: "\(source)/inputs.safetensors").tensor("pixel_values")
        let batch = pixels.shape[0]
        let before = try FP32Executor(graph: try ModelBundle(directory: source).graph(batch: batch)).run(["pixel_values": pixels])["logits"]
        let after = try FP32Executor(graph: try rotated.graph(batch: batch)).run(["pixel_values": pixels])["logits"]
        let (error, magnitude) = maxErrors(try XCTUnwrap(after).floats(), try XCTUnwrap(before).floats())
        XCTAssertLessThanOrEqual(error, 1e-5 * magnitude)
        XCTAssertGreaterThan(magnitude, 0.1)
        let trunk = try XCTUnwrap(rotated.vimTrunk)
        for index in 0..<trunk.depth {
            XCTAssertEqual(Set(try XCTUnwrap(weights["layers.\(index).norm.weight"]).floats()), [1])
            XCTAssertNotEqual(weights["layers.\(index).mixer.in_proj.weight"]?.floats(), original["layers.\(index).mixer.in_proj.weight"]?.floats())
            XCTAssertNotEqual(weights["layers.\(index).mixer.out_proj.weight"]?.floats(), original["layers.\(index).mixer.out_proj.weight"]?.floats())
            // The branches' own weights never see the residual stream.
            XCTAssertEqual(weights["layers.\(index).mixer.x_proj.weight"]?.floats(), original["layers.\(index).mixer.x_proj.weight"]?.floats())
        }
        for name in ["patch_embed.proj.weight", "cls_token", "pos_embed", "head.weight"] {
            XCTAssertNotEqual(weights[name]?.floats(), original[name]?.floats(), name)
        }
        XCTAssertEqual(weights["head.bias"]?.floats(), original["head.bias"]?.floats())
    }

    /// The detector's head reads the rotated features through its input projection: every output
    /// of the training code's reference, the memory included, is reproduced.
    func test_rotatedDetectorMatchesTheTrainingCode() throws {
        let (rotated, original, weights) = try rotatedCopy(of: TestPaths.fixture("demo-petr/vim_qfpe"), seed: 5)
        XCTAssertEqual(rotated.vimTrunk?.consumer, "pts_bbox_head.input_proj.weight")
        XCTAssertNotEqual(weights["pts_bbox_head.input_proj.weight"]?.floats(), original["pts_bbox_head.input_proj.weight"]?.floats())
        let checker = PETRFixtureTests(name: "vim-rotation", testClosure: { _ in })
        let errors = try checker.check(directory: directory, threads: 2)
        XCTAssertEqual(Set(errors.keys), ["coords3d", "pos_embed", "memory", "all_cls_scores", "all_bbox_preds", "boxes"])
    }

    /// Smoothing moves a per-channel scale from out_proj's input into its columns through the
    /// scaled SiLU gates: the same logits, a gate scale per layer and both scans gated with it.
    func test_smoothedClassifierGivesTheSameLogits() throws {
        let source = TestPaths.fixture("vim/stride8")
        let bundle = try ModelBundle(directory: source)
        let trunk = try XCTUnwrap(bundle.vimTrunk)
        var tensors = try SafeTensorsFile(path: bundle.weightsPath).allTensors()
        let inner = try XCTUnwrap(tensors["layers.0.mixer.out_proj.weight"]).shape[1]
        for layer in 0..<trunk.depth {
            let scales = (0..<inner).map { Float(0.05 + Double(($0 * 37 + layer * 11) % 23) / 4) }
            try VimSmoothing.smooth(&tensors, trunk: trunk, layer: layer, scales: scales)
        }
        XCTAssertThrowsError(try VimSmoothing.smooth(&tensors, trunk: trunk, layer: 0, scales: [Float](repeating: 1, count: inner)))
        let names = try SafeTensorsFile(path: bundle.weightsPath).names
        _ = try copyBundle(from: source, to: directory, config: { _ in }) { list in
            list = (names + tensors.keys.filter { !names.contains($0) }.sorted()).compactMap { name in tensors[name].map { (name, $0) } }
        }
        let pixels = try SafeTensorsFile(path: "\(source)/inputs.safetensors").tensor("pixel_values")
        let smoothed = try ModelBundle(directory: directory).graph(batch: pixels.shape[0])
        XCTAssertEqual(smoothed.nodes.filter { $0.op.kind == "selective_scan" }.map(\.inputs.count), [9, 9, 9, 9])
        XCTAssertEqual(smoothed.nodes.filter { $0.name.hasSuffix("in_proj_gates") || $0.name.hasSuffix("in_proj_states") }.count, 4)
        XCTAssertNil(tensors["layers.0.mixer.in_proj.weight"])
        let before = try FP32Executor(graph: try bundle.graph(batch: pixels.shape[0])).run(["pixel_values": pixels])["logits"]
        let after = try FP32Executor(graph: smoothed).run(["pixel_values": pixels])["logits"]
        let (error, magnitude) = maxErrors(try XCTUnwrap(after).floats(), try XCTUnwrap(before).floats())
        XCTAssertLessThanOrEqual(error, 1e-5 * magnitude)
    }

    func test_modelsWithoutAVimTrunkHaveNone() throws {
        XCTAssertNil(try ModelBundle(directory: TestPaths.fixture("vit/cls_token")).vimTrunk)
        XCTAssertNil(try ModelBundle(directory: TestPaths.fixture("demo-petr/qfpe")).vimTrunk)
        XCTAssertEqual(try ModelBundle(directory: TestPaths.fixture("vim/patch16")).vimTrunk?.lastResidualValue, "layers.1.residual")
    }

    func test_aRotationOfTheWrongSizeIsRefused() throws {
        var tensors = try SafeTensorsFile(path: TestPaths.fixture("vim/patch16/model.safetensors")).allTensors()
        let trunk = try XCTUnwrap(try ModelBundle(directory: TestPaths.fixture("vim/patch16")).vimTrunk)
        XCTAssertThrowsError(try VimRotation.rotate(&tensors, trunk: trunk, by: Matrix.identity(trunk.embedDim + 1)))
    }
}
