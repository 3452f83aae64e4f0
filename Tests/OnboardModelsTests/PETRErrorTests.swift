import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// PETR bundles and inputs that do not fit fail with an OnboardError naming the file and item.
final class PETRErrorTests: XCTestCase {
    var directory = ""
    let source = TestPaths.fixture("petr/tiny_lid")

    override func setUp() { directory = TestPaths.temporaryDirectory("petr-bundle") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// A copy of the tiny_lid fixture with the config edited and tensors changed.
    func makeBundle(config edit: (inout [String: Any]) -> Void = { _ in },
                    tensors change: (inout [(name: String, tensor: Tensor)]) -> Void = { _ in }) throws -> String {
        try copyBundle(from: source, to: directory, config: edit, tensors: change)
    }

    func editHead(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { config in
            var head = config["head"] as? [String: Any] ?? [:]
            head[key] = value
            config["head"] = head
        }
    }

    func assertBundleFails(_ edit: @escaping (inout [String: Any]) -> Void, _ text: String, line: UInt = #line) throws {
        let path = try makeBundle(config: edit)
        XCTAssertThrowsError(try ModelBundle(directory: path), line: line) { error in
            XCTAssertTrue(error is OnboardError, "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(text), "'\(error)' lacks '\(text)'", line: line)
        }
    }

    func test_invalidConfigFieldsAreNamed() throws {
        try assertBundleFails(editHead("num_heads", 5), "config.json: head.num_heads: 5 must divide embed_dims 32")
        try assertBundleFails(editHead("embed_dims", 30), "config.json: head.embed_dims: 30 must be a positive multiple of 4")
        try assertBundleFails(editHead("depth_num", 0), "config.json: head.depth_num: must be > 0")
        try assertBundleFails(editHead("num_layers", 0), "config.json: head.num_layers: must be > 0")
        try assertBundleFails(editHead("num_query", -1), "config.json: head.num_query: must be > 0")
        try assertBundleFails(editHead("ffn_dims", 0), "config.json: head.ffn_dims: must be > 0")
        try assertBundleFails(editHead("in_channels", 0), "config.json: head.in_channels: must be > 0")
        try assertBundleFails(editHead("num_classes", 0), "config.json: head.num_classes: must be > 0")
        try assertBundleFails(editHead("position_range", [1, 2, 3]), "config.json: head.position_range: must be 6 finite numbers")
        try assertBundleFails(editHead("position_range", [10, -61, -10, -10, 61, 10]), "head.position_range: each minimum must be below")
        try assertBundleFails(editHead("pc_range", [0, 0, 0, 0, 0, 0]), "config.json: head.pc_range: each minimum")
        try assertBundleFails(editHead("post_center_range", [0]), "config.json: head.post_center_range: must be 6")
        try assertBundleFails(editHead("depth_start", 70), "config.json: head.depth_start: 70.0 must be > 0 and below")
        try assertBundleFails(editHead("max_num", 201), "config.json: head.max_num: 201 must be in 1...num_query * num_classes = 200")
        try assertBundleFails(editHead("layer_norm_eps", 0), "config.json: head.layer_norm_eps: must be > 0")
        try assertBundleFails(editHead("pe", "fourier"), "config.json: head.pe: 'fourier' is not supported")
        try assertBundleFails(editHead("pe", "qfpe"), "config.json: head.qfpe: missing")
        let unordered: [String: Any] = ["depth": 15, "anchors": [[-51.2, 51.2], [1, 1], [-5, 3]]]
        try assertBundleFails({ c in self.editHead("pe", "qfpe")(&c); self.editHead("qfpe", unordered)(&c) },
                              "config.json: head.qfpe.anchors[1]: needs at least 2 finite, strictly increasing positions")
        try assertBundleFails(editHead("lid", "yes"), "config.json: head.lid: wrong type")
        try assertBundleFails({ $0["num_cameras"] = 0 }, "config.json: num_cameras: must be > 0")
        try assertBundleFails({ $0["image_size"] = [32] }, "config.json: image_size: must be [H, W] > 0")
        try assertBundleFails({ $0["class_names"] = ["car"] }, "config.json: class_names: 1 names for num_classes 10")
        try assertBundleFails({ $0.removeValue(forKey: "head") }, "config.json: head: missing")
        try assertBundleFails({ c in
            var head = c["head"] as? [String: Any] ?? [:]
            head.removeValue(forKey: "embed_dims")
            c["head"] = head
        }, "config.json: head.embed_dims: missing")
        try assertBundleFails({ $0["neck"] = ["type": "cpfpn", "in_channels": [16], "out_channels": 16] }, "config.json: neck: a neck needs a backbone")
        try assertBundleFails({ $0["backbone"] = ["type": "alexnet"] }, "config.json: backbone")
        try assertBundleFails({ $0["preprocess"] = ["mean": [1, 2], "std": [1, 1, 1]] }, "config.json: preprocess: mean and std")
    }

    func assertModelFails(_ path: String, _ text: String, line: UInt = #line) {
        XCTAssertThrowsError(try PETRModel(bundle: try ModelBundle(directory: path), input: .features(height: 4, width: 8), threads: 1),
                             line: line) { error in
            XCTAssertTrue(error is OnboardError, "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(text), "'\(error)' lacks '\(text)'", line: line)
        }
    }

    func test_missingWrongShapedAndExtraTensors() throws {
        let prefix = "pts_bbox_head"
        assertModelFails(try makeBundle(tensors: { $0.removeAll { $0.name == "\(prefix).transformer.decoder.layers.1.attentions.1.attn.in_proj_weight" } }),
                         "\(prefix).transformer.decoder.layers.1.attentions.1.attn.in_proj_weight: missing tensor (expected shape [96, 32])")
        assertModelFails(try makeBundle(tensors: { t in
            if let i = t.firstIndex(where: { $0.name == "\(prefix).reference_points.weight" }) { t[i].tensor = Tensor(zeros: [21, 3]) }
        }), "\(prefix).reference_points.weight: shape [21, 3], expected [20, 3]")
        assertModelFails(try makeBundle(tensors: { $0.append((name: "\(prefix).extra.weight", tensor: Tensor(zeros: [2]))) }),
                         "1 tensors not used by the model config: \(prefix).extra.weight")
        assertModelFails(try makeBundle(config: editHead("num_layers", 3)), "layers.2.attentions.0.attn.in_proj_weight: missing tensor")
        assertModelFails(try makeBundle(config: editHead("depth_num", 4)), "\(prefix).position_encoder.0.weight: shape [128, 24, 1, 1], expected [128, 12, 1, 1]")
        // A branch copy of the wrong shape is caught even though the last copy is the one in effect.
        assertModelFails(try makeBundle(tensors: { t in
            if let i = t.firstIndex(where: { $0.name == "\(prefix).cls_branches.2.6.weight" }) { t[i].tensor = Tensor(zeros: [9, 32]) }
        }), "\(prefix).cls_branches.2.6.weight: shape [9, 32], expected [10, 32]")
        // Backbone tensors are set aside for a features graph.
        XCTAssertNoThrow(try PETRModel(bundle: try ModelBundle(directory: try makeBundle(tensors: {
            $0.append((name: "img_backbone.stem.weight", tensor: Tensor(zeros: [2])))
        })), input: .features(height: 4, width: 8), threads: 1))
    }

    func test_imagesNeedABackbone() throws {
        let bundle = try ModelBundle(directory: source)
        XCTAssertThrowsError(try PETRModel(bundle: bundle, input: .images, threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("backbone: the bundle has none: give features [N, 16, h, w]"), "\(error)")
        }
        XCTAssertThrowsError(try bundle.graph(batch: 1))
        XCTAssertEqual(bundle.inputShapes(batch: 1), [:])
        XCTAssertThrowsError(try bundle.batchSize(for: ["images": [2, 3, 32, 64]], source: "in.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("in.safetensors: this PETR bundle has no backbone"), "\(error)")
        }
    }

    func test_badInputsAreNamed() throws {
        let bundle = try ModelBundle(directory: source)
        guard let config = bundle.model as? PETRConfig else { return XCTFail("not PETR") }
        let inputs = try SafeTensorsFile(path: "\(source)/inputs.safetensors").allTensors()
        let model = try PETRModel(bundle: bundle, input: .features(height: 4, width: 8), threads: 1)
        func assertFails(_ tensors: [String: Tensor], _ text: String, line: UInt = #line) {
            XCTAssertThrowsError(try model.run(tensors, source: "in.safetensors"), line: line) { error in
                XCTAssertTrue(error is OnboardError, "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(text), "'\(error)' lacks '\(text)'", line: line)
            }
        }
        guard let features = inputs["features"], let lidar2img = inputs["lidar2img"] else { return XCTFail("fixture inputs") }
        assertFails(["features": features], "in.safetensors: lidar2img: missing (expected f32 [2, 4, 4])")
        assertFails(["lidar2img": lidar2img], "in.safetensors: features: missing")
        assertFails(["features": features, "lidar2img": Tensor(zeros: [1, 4, 4])], "in.safetensors: lidar2img: f32 [1, 4, 4], the model expects f32 [2, 4, 4]")
        assertFails(["features": Tensor(zeros: [2, 16, 4, 9]), "lidar2img": lidar2img], "in.safetensors: features: f32 [2, 16, 4, 9], the model expects f32 [2, 16, 4, 8]")
        assertFails(["features": try Tensor(shape: [2, 16, 4, 8], dtype: .i32, integers: [Int32](repeating: 0, count: 1024)), "lidar2img": lidar2img],
                    "features: i32 [2, 16, 4, 8]")
        let singular = lidar2img.copied()
        for i in 0..<4 { singular.floatPointer[16 + 3 * 4 + i] = singular.floatPointer[16 + 2 * 4 + i] * 2 }  // camera 1: row 3 = 2 x row 2
        assertFails(["features": features, "lidar2img": singular], "in.safetensors: lidar2img: camera 1's matrix is singular")
        let zero = lidar2img.copied()
        for i in 0..<16 { zero.floatPointer[i] = 0 }
        assertFails(["features": features, "lidar2img": zero], "in.safetensors: lidar2img: camera 0's matrix is singular")
        let nan = lidar2img.copied()
        nan.floatPointer[5] = .nan
        assertFails(["features": features, "lidar2img": nan], "in.safetensors: lidar2img: element 5 is not finite")
        let badFeatures = features.copied()
        badFeatures.floatPointer[3] = .infinity
        assertFails(["features": badFeatures, "lidar2img": lidar2img], "in.safetensors: features: element 3 is not finite")

        // Choosing the input mode from the file.
        XCTAssertEqual(try PETRModel.input(for: inputs, config: config, source: "f"), .features(height: 4, width: 8))
        XCTAssertEqual(try PETRModel.input(for: ["images": Tensor(zeros: [2, 3, 32, 64])], config: config, source: "f"), .images)
        XCTAssertThrowsError(try PETRModel.input(for: ["lidar2img": lidar2img], config: config, source: "f")) { error in
            XCTAssertTrue("\(error)".contains("f: needs images [2, 3, 32, 64] or features [2, 16, h, w], and lidar2img [2, 4, 4]"), "\(error)")
        }
        XCTAssertThrowsError(try PETRModel.input(for: ["features": Tensor(zeros: [2, 15, 4, 8])], config: config, source: "f")) { error in
            XCTAssertTrue("\(error)".contains("f: features: shape [2, 15, 4, 8], the model expects [2, 16, h, w]"), "\(error)")
        }
    }

    /// The same head at another feature size (the graph follows the input) still runs.
    func test_otherFeatureSizes() throws {
        let bundle = try ModelBundle(directory: source)
        let lidar2img = try SafeTensorsFile(path: "\(source)/inputs.safetensors").tensor("lidar2img")
        var random = TestRandom(seed: 3)
        let model = try PETRModel(bundle: bundle, input: .features(height: 2, width: 5), threads: 1)
        let out = try model.run(["features": random.gaussian([2, 16, 2, 5]), "lidar2img": lidar2img], source: "x")
        XCTAssertEqual(out.coords3d.shape, [2, 24, 2, 5])
        XCTAssertEqual(out.posEmbed.shape, [20, 32])
        XCTAssertEqual(out.allClassScores.shape, [2, 20, 10])
        XCTAssertEqual(out.detections.count, 50)
    }
}
