import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// An architecture defined outside the kit: input `x` [batch, width], output `y` = 2x.
private struct DoublingArchitecture: ModelArchitecture, Decodable {
    static let configName = "doubling"
    var width: Int

    static func load(_ data: Data, path: String) throws -> DoublingArchitecture {
        try JSONInput.decode(DoublingArchitecture.self, from: data, path: path)
    }

    func inputShapes(batch: Int) -> [String: [Int]] { ["x": [batch, width]] }

    func batchSize(for shapes: [String: [Int]], source: String) throws -> Int {
        try leadingBatchSize(for: shapes, source: source)
    }

    func graph(of bundle: ModelBundle, batch: Int, exposePreLogits: Bool) throws -> Graph {
        let g = GraphBuilder()
        let x = try g.input("x", shape: [batch, width])
        g.markOutput(try g.node(.scale(2), [x], name: "y"))
        return try g.build()
    }
}

final class ModelRegistryTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("registry") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func writeConfig(_ json: String) throws -> String {
        try Data(json.utf8).write(to: URL(fileURLWithPath: "\(directory)/config.json"))
        return directory
    }

    func test_everyRegisteredArchitectureLoadsItsFixture() throws {
        let fixtures = ["vit": TestPaths.fixture("vit/cls_token"), "petr": TestPaths.fixture("petr/tiny_lid"),
                        "vim": TestPaths.fixture("vim/patch16"), "bert": try TestPaths.requireMiniLM(),
                        "graph": TestPaths.fixture("graph/resnet_tiny")]
        XCTAssertEqual(fixtures.keys.sorted(), ModelRegistry.architectures.names.sorted(), "each registered architecture needs a fixture here")
        for (name, fixture) in fixtures {
            let bundle = try ModelBundle(directory: fixture)
            XCTAssertEqual(type(of: bundle.model).configName, name)
        }
    }

    func test_everyRegisteredBackboneAndNeckDecodesItsFixture() throws {
        let backbones = ["vit": "vit_features", "resnet": "resnet50_reduced", "vovnet": "vovnet_dw", "vim": "vim_features"]
        let necks = ["cpfpn": "resnet_basic_cpfpn"]
        XCTAssertEqual(backbones.keys.sorted(), ModelRegistry.backbones.names.sorted(), "each registered backbone needs a fixture here")
        XCTAssertEqual(necks.keys.sorted(), ModelRegistry.necks.names.sorted(), "each registered neck needs a fixture here")
        func decode(_ fixture: String) throws -> BackboneFixtureConfig {
            let path = TestPaths.fixture("backbones/\(fixture)/config.json")
            let config = try JSONInput.decode(BackboneFixtureConfig.self, from: try InputFile.read(path, what: "config"), path: path)
            try BackboneBuilder.validate(backbone: config.backbone, neck: config.neck, path: path)
            return config
        }
        for (name, fixture) in backbones {
            let backbone = try decode(fixture).backbone
            XCTAssertEqual(backbone.type, name)
            XCTAssertEqual(try JSONDecoder().decode(BackboneConfig.self, from: try JSONEncoder().encode(backbone)), backbone)
        }
        for (name, fixture) in necks {
            let neck = try XCTUnwrap(try decode(fixture).neck)
            XCTAssertEqual(neck.type, name)
            XCTAssertEqual(try JSONDecoder().decode(NeckConfig.self, from: try JSONEncoder().encode(neck)), neck)
        }
    }

    func test_namesAreUnique() {
        for names in [ModelRegistry.architectures.names, ModelRegistry.backbones.names, ModelRegistry.necks.names] {
            XCTAssertEqual(Set(names).count, names.count, "\(names)")
        }
    }

    func test_unknownNamesListTheKnownOnes() throws {
        let path = try writeConfig(#"{"architecture": "mamba"}"#) + "/config.json"
        XCTAssertThrowsError(try ModelBundle(directory: directory)) { error in
            XCTAssertEqual(error as? OnboardError,
                           .format(path: path, item: "architecture", reason: "unknown architecture 'mamba' (known: vit, petr, vim, bert, graph)"))
        }
        let backbone = #"{"backbone": {"type": "mamba"}}"#
        XCTAssertThrowsError(try JSONInput.decode(BackboneFixtureConfig.self, from: Data(backbone.utf8), path: "config.json")) { error in
            XCTAssertEqual("\(error)", "config.json: backbone.type: 'mamba' is not vit, resnet, vovnet or vim")
        }
        let neck = #"{"backbone": {"type": "resnet"}, "neck": {"type": "fpn", "in_channels": [1], "out_channels": 1}}"#
        XCTAssertThrowsError(try JSONInput.decode(BackboneFixtureConfig.self, from: Data(neck.utf8), path: "config.json")) { error in
            XCTAssertEqual("\(error)", "config.json: neck.type: 'fpn' is not cpfpn")
        }
    }

    func test_registrationIsOneLine() throws {
        _ = try writeConfig(#"{"architecture": "doubling", "width": 3}"#)
        XCTAssertThrowsError(try ModelBundle(directory: directory))
        let architectures = FamilyRegistry(ModelRegistry.architectures.families + [DoublingArchitecture.self]) { $0.configName }
        XCTAssertEqual(architectures.alternatives, "vit, petr, vim, bert, graph or doubling")

        let bundle = try ModelBundle(directory: directory, architectures: architectures)
        XCTAssertEqual((bundle.model as? DoublingArchitecture)?.width, 3)
        XCTAssertEqual(try bundle.batchSize(for: ["x": [4, 3]], source: "inputs"), 4)
        XCTAssertThrowsError(try bundle.batchSize(for: ["x": [4, 2]], source: "inputs")) { error in
            XCTAssertEqual("\(error)", "inputs: x: shape [4, 2], model expects [4, 3]")
        }
        let graph = try bundle.graph(batch: 2)
        let outputs = try FP32Executor(graph: graph, threads: 1).run(["x": try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])])
        XCTAssertEqual(outputs["y"]?.floats(), [2, 4, 6, 8, 10, 12])
    }
}
