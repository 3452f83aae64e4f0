import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// timm reference outputs (Tests/Fixtures/vit, made by tools/make_fixtures.py) reproduced to
/// max |error| <= 1e-4 x max |output|.
final class ViTFixtureTests: XCTestCase {
    static let cases = [
        "cls_token", "avg_fc_norm_nonsquare", "deit_distilled", "reg_layer_scale_gelu_tanh",
        "reg_gap", "pre_norm_no_qkv_bias", "fp16_weights", "no_head",
    ]

    func test_everyFixtureMatchesTimm() throws {
        XCTAssertEqual(try bundleDirectories(in: TestPaths.fixture("vit")), Set(Self.cases), "fixture list out of date")
        for name in Self.cases {
            try assertClassifierFixtureMatches(TestPaths.fixture("vit/\(name)"), name: name)
        }
    }

    func test_wrongInputShapeIsNamed() throws {
        let bundle = try ModelBundle(directory: TestPaths.fixture("vit/cls_token"))
        XCTAssertThrowsError(try bundle.batchSize(for: ["pixel_values": [1, 3, 16, 16]], source: "in.safetensors")) { error in
            XCTAssertEqual("\(error)", "in.safetensors: pixel_values: shape [1, 3, 16, 16], model expects [1, 3, 32, 32]")
        }
        XCTAssertThrowsError(try bundle.batchSize(for: ["images": [1, 3, 32, 32]], source: "in.safetensors"))
    }
}

/// Bundles that do not fit their config fail with the file and the item named.
final class BundleErrorTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("bundle") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// A copy of the cls_token fixture with the config edited and tensors changed.
    func makeBundle(config edit: (inout [String: Any]) -> Void = { _ in },
                    tensors change: (inout [(name: String, tensor: Tensor)]) -> Void = { _ in }) throws -> String {
        try copyBundle(from: TestPaths.fixture("vit/cls_token"), to: directory, config: edit, tensors: change)
    }

    func assertFails(_ directory: String, _ text: String, line: UInt = #line) {
        XCTAssertThrowsError(try ModelBundle(directory: directory).graph(batch: 1), line: line) { error in
            XCTAssertTrue("\(error)".contains(text), "'\(error)' lacks '\(text)'", line: line)
        }
    }

    func test_missingWrongShapedAndExtraTensors() throws {
        assertFails(try makeBundle(tensors: { $0.removeAll { $0.name == "blocks.1.mlp.fc2.weight" } }),
                    "blocks.1.mlp.fc2.weight: missing tensor")
        assertFails(try makeBundle(tensors: { t in
            if let i = t.firstIndex(where: { $0.name == "pos_embed" }) { t[i].tensor = Tensor(zeros: [1, 5, 32]) }
        }), "pos_embed: shape [1, 5, 32], expected")
        assertFails(try makeBundle(tensors: { $0.append((name: "extra.weight", tensor: Tensor(zeros: [2]))) }),
                    "1 tensors not used by the model config: extra.weight")
        assertFails(try makeBundle(config: { $0["depth"] = 3 }), "blocks.2.norm1.weight: missing tensor")
    }

    func test_invalidConfigFields() throws {
        XCTAssertThrowsError(try ModelBundle(directory: try makeBundle(config: { $0["num_heads"] = 5 }))) { error in
            XCTAssertTrue("\(error)".contains("config.json: num_heads: 5 must divide embed_dim"), "\(error)")
        }
        XCTAssertThrowsError(try ModelBundle(directory: try makeBundle(config: { $0["act"] = "swish" }))) { error in
            XCTAssertTrue("\(error)".contains("act: 'swish' is not"), "\(error)")
        }
        XCTAssertThrowsError(try ModelBundle(directory: try makeBundle(config: { $0.removeValue(forKey: "embed_dim") }))) { error in
            XCTAssertTrue("\(error)".contains("config.json: embed_dim: missing"), "\(error)")
        }
        XCTAssertThrowsError(try ModelBundle(directory: try makeBundle(config: { $0["patch_size"] = "8" }))) { error in
            XCTAssertTrue("\(error)".contains("patch_size: wrong type"), "\(error)")
        }
        XCTAssertThrowsError(try ModelBundle(directory: try makeBundle(config: { $0["architecture"] = "resnet" }))) { error in
            XCTAssertTrue("\(error)".contains("unknown architecture 'resnet'"), "\(error)")
        }
        XCTAssertThrowsError(try ModelBundle(directory: "\(directory)/absent"))
    }
}
