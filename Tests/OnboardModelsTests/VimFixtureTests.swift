import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// Vision Mamba bundles (Tests/Fixtures/vim, made by tools/make_vim_fixtures.py from
/// tools/vim_reference.py, the official forward in PyTorch) reproduced to
/// max |error| <= 1e-4 x max |output|, and bad bundles reported by file, item and field.
final class VimFixtureTests: XCTestCase {
    static let cases = ["patch16", "stride8", "cls_first_no_divide"]

    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("vim") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func test_everyFixtureMatchesTheReference() throws {
        XCTAssertEqual(try bundleDirectories(in: TestPaths.fixture("vim")), Set(Self.cases), "fixture list out of date")
        for name in Self.cases {
            try assertClassifierFixtureMatches(TestPaths.fixture("vim/\(name)"), name: name)
        }
    }

    /// Each layer runs both branches in the original order: one causal and one reverse scan and
    /// convolution, and no flipped copies.
    func test_everyLayerHasAForwardAndAReverseBranch() throws {
        let bundle = try ModelBundle(directory: TestPaths.fixture("vim/stride8"))
        let graph = try bundle.graph(batch: 1)
        let ops = graph.nodes.map(\.op)
        XCTAssertEqual(ops.filter { $0 == .selectiveScan(reverse: false) }.count, 2)
        XCTAssertEqual(ops.filter { $0 == .selectiveScan(reverse: true) }.count, 2)
        XCTAssertEqual(ops.filter { $0 == .causalConv1d(reverse: true) }.count, 2)
        XCTAssertEqual(ops.filter { $0 == .rmsNorm(epsilon: 1e-5) }.count, 3)
        let config = try XCTUnwrap(bundle.model as? VimConfig)
        XCTAssertEqual(config.grid.0 * config.grid.1, 35)
        XCTAssertEqual(config.classTokenIndex, 17)
    }

    func test_wrongInputShapeIsNamed() throws {
        let bundle = try ModelBundle(directory: TestPaths.fixture("vim/patch16"))
        XCTAssertThrowsError(try bundle.batchSize(for: ["pixel_values": [1, 3, 64, 64]], source: "in.safetensors")) { error in
            XCTAssertEqual("\(error)", "in.safetensors: pixel_values: shape [1, 3, 64, 64], model expects [1, 3, 64, 48]")
        }
    }

    func makeBundle(config edit: (inout [String: Any]) -> Void = { _ in },
                    tensors change: (inout [(name: String, tensor: Tensor)]) -> Void = { _ in }) throws -> String {
        try copyBundle(from: TestPaths.fixture("vim/patch16"), to: directory, config: edit, tensors: change)
    }

    func assertFails(_ directory: String, _ text: String, line: UInt = #line) {
        XCTAssertThrowsError(try ModelBundle(directory: directory).graph(batch: 1), line: line) { error in
            XCTAssertTrue("\(error)".contains(text), "'\(error)' lacks '\(text)'", line: line)
        }
    }

    func test_badConfigsNameTheFileAndTheField() throws {
        let config = "\(directory)/config.json"
        assertFails(try makeBundle(config: { $0.removeValue(forKey: "d_state") }), "\(config): d_state: missing")
        assertFails(try makeBundle(config: { $0["image_size"] = [64, 50] }),
                    "\(config): image_size: [64, 50] minus patch_size 16 must be a multiple of stride 16")
        assertFails(try makeBundle(config: { $0["stride"] = 12 }),
                    "\(config): image_size: [64, 48] minus patch_size 16 must be a multiple of stride 12")
        assertFails(try makeBundle(config: { $0["patch_size"] = 80 }), "\(config): patch_size: 80 must be > 0 and fit")
        assertFails(try makeBundle(config: { $0["bimamba_type"] = "v1" }), "\(config): bimamba_type: 'v1' is not 'v2'")
        assertFails(try makeBundle(config: { $0["expand"] = Int.max }), "\(config): expand:")
        assertFails(try makeBundle(config: { $0["norm_eps"] = 0 }), "\(config): norm_eps: 0.0 must be a finite number > 0")
        assertFails(try makeBundle(config: { $0["middle_cls_token"] = "yes" }), "\(config): middle_cls_token: wrong type")
    }

    func test_missingWrongShapedAndExtraTensorsAreNamed() throws {
        let weights = "\(directory)/model.safetensors"
        assertFails(try makeBundle(tensors: { $0.removeAll { $0.name == "layers.1.mixer.A_b_log" } }),
                    "\(weights): layers.1.mixer.A_b_log: missing tensor (expected shape [64, 16])")
        assertFails(try makeBundle(tensors: { t in
            if let i = t.firstIndex(where: { $0.name == "layers.0.mixer.conv1d_b.weight" }) { t[i].tensor = Tensor(zeros: [64, 4]) }
        }), "\(weights): layers.0.mixer.conv1d_b.weight: shape [64, 4], expected [64, 1, 4]")
        assertFails(try makeBundle(tensors: { $0.append((name: "rope.freqs", tensor: Tensor(zeros: [2]))) }),
                    "\(weights): 1 tensors not used by the model config: rope.freqs")
        assertFails(try makeBundle(config: { $0["depth"] = 3 }), "layers.2.norm.weight: missing tensor")
    }
}
