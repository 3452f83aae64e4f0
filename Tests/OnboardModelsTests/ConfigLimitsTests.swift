import Foundation
import OnboardCore
import OnboardModels
import OnboardTestSupport
import XCTest

/// Hostile config values: sizes whose products overflow or exceed memory, non-integers and
/// out-of-range numbers are errors naming config.json and the field, never a trap.
final class ConfigLimitsTests: XCTestCase {
    func message(_ json: String, edit: (inout [String: Any]) -> Void) throws -> String {
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        edit(&config)
        let directory = TestPaths.temporaryDirectory("config-limits")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: "\(directory)/config.json"))
        do {
            _ = try ModelBundle(directory: directory)
            return "accepted"
        } catch {
            return "\(error)".replacingOccurrences(of: directory + "/", with: "")
        }
    }

    func petr(_ edit: (inout [String: Any]) -> Void) throws -> String { try message(PETRConfigTests.vovnet800x320, edit: edit) }

    func head(_ key: String, _ value: Any) throws -> String {
        try petr { config in
            var head = config["head"] as! [String: Any]
            head[key] = value
            config["head"] = head
        }
    }

    func test_petrSizesThatOverflowAreErrorsNamingTheField() throws {
        XCTAssertEqual(try head("num_query", 1 << 62),
                       "config.json: head.num_classes: a tensor of shape [4611686018427387904, 10] has more elements than can be addressed")
        XCTAssertEqual(try head("num_classes", 1 << 62),
                       "config.json: head.num_classes: a tensor of shape [900, 4611686018427387904] has more elements than can be addressed")
        XCTAssertEqual(try head("depth_num", 1 << 62),
                       "config.json: head.depth_num: a tensor of shape [4611686018427387904, 3] has more elements than can be addressed")
        XCTAssertEqual(try petr { $0["num_cameras"] = 1 << 62 },
                       "config.json: image_size: a tensor of shape [4611686018427387904, 3, 320, 800] has more elements than can be addressed")
        XCTAssertEqual(try petr { $0["image_size"] = [1 << 62, 1 << 62] },
                       "config.json: image_size: a tensor of shape [6, 3, 4611686018427387904, 4611686018427387904] has more elements than can be addressed")
    }

    func test_petrSizesBeyondMemoryAreErrorsSayingWhatWasAskedFor() throws {
        let cameras = try petr { $0["num_cameras"] = 1_000_000_000 }
        XCTAssertTrue(cameras.hasPrefix("config.json: image_size: a tensor of shape [1000000000, 3, 320, 800] needs 3072000000000000 bytes, more than this machine's"), cameras)
        let depth = try head("depth_num", 1_000_000_000)
        XCTAssertTrue(depth.hasPrefix("config.json: head.depth_num: a tensor of shape [6, 3000000000, 20, 50] needs"), depth)
    }

    func test_backboneSizesThatOverflowNameTheBackboneField() throws {
        let vitBackbone = try message(try String(contentsOfFile: TestPaths.fixture("../../Configs/models/petr-demo/config.json"), encoding: .utf8)) { config in
            var backbone = config["backbone"] as! [String: Any]
            backbone["mlp_hidden_dim"] = 1 << 62
            config["backbone"] = backbone
        }
        XCTAssertEqual(vitBackbone, "config.json: backbone.mlp_hidden_dim: a tensor of shape [4611686018427387904, 128] has more elements than can be addressed")
    }

    func test_nonIntegersAndOutOfRangeNumbersNameTheFieldAndValue() throws {
        XCTAssertEqual(try head("depth_num", 4.5), "config.json: head.depth_num: 4.5 is not a whole number (an integer is expected)")
        XCTAssertEqual(try head("depth_start", 1e40), "config.json: head.depth_start: 1e+40 is out of range")
        XCTAssertEqual(try head("num_classes", "ten"), "config.json: head.num_classes: wrong type (expected an integer)")
    }

    func vit(_ key: String, _ value: Any) throws -> String {
        try message(try String(contentsOfFile: TestPaths.fixture("../../Configs/models/vit-demo/config.json"), encoding: .utf8)) { $0[key] = value }
    }

    func test_vitErrorsNameTheFieldThatIsWrong() throws {
        XCTAssertEqual(try vit("num_classes", -1), "config.json: num_classes: -1 must be >= 0")
        XCTAssertEqual(try vit("reg_tokens", -2), "config.json: reg_tokens: -2 must be >= 0")
        XCTAssertEqual(try vit("mlp_hidden_dim", 0), "config.json: mlp_hidden_dim: 0 must be > 0")
        XCTAssertEqual(try vit("depth", 4.5), "config.json: depth: 4.5 is not a whole number (an integer is expected)")
        XCTAssertEqual(try vit("num_classes", 1 << 62),
                       "config.json: num_classes: a tensor of shape [4611686018427387904, 192] has more elements than can be addressed")
    }

    func test_aBatchBeyondMemoryIsRefusedBeforeBuilding() throws {
        let bundle = try ModelBundle(directory: TestPaths.fixture("../../Configs/models/vit-demo"))
        XCTAssertThrowsError(try bundle.graph(batch: 1 << 62)) { error in
            XCTAssertTrue("\(error)".contains("batch 4611686018427387904: image_size: a tensor of shape [4611686018427387904, 3, 224, 224] has more elements than can be addressed"), "\(error)")
        }
    }
}
