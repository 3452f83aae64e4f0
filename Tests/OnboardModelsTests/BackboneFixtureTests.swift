import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant
import OnboardTestSupport
import XCTest

/// The `backbone` / `neck` part of a PETR config.json.
struct BackboneFixtureConfig: Decodable {
    var backbone: BackboneConfig
    var neck: NeckConfig?
}

/// A backbone fixture (Tests/Fixtures/backbones, made by tools/make_backbone_fixtures.py) built
/// as a graph with input `images` and outputs `backbone.{k}` and `features`.
struct BackboneFixture {
    let name: String
    let config: BackboneFixtureConfig
    let graph: Graph
    let images: Tensor
    let expected: SafeTensorsFile

    init(_ name: String) throws {
        self.name = name
        let directory = TestPaths.fixture("backbones/\(name)")
        let configPath = "\(directory)/config.json"
        config = try JSONDecoder().decode(BackboneFixtureConfig.self, from: Data(contentsOf: URL(fileURLWithPath: configPath)))
        try BackboneBuilder.validate(backbone: config.backbone, neck: config.neck, path: configPath)
        images = try SafeTensorsFile(path: "\(directory)/inputs.safetensors").tensor("images")
        expected = try SafeTensorsFile(path: "\(directory)/expected.safetensors")
        let weights = WeightStore(file: try SafeTensorsFile(path: "\(directory)/weights.safetensors"))
        let module = ModuleBuilder(graph: GraphBuilder(), weights: weights)
        let input = try module.graph.input("images", shape: images.shape)
        let (levels, map) = try BackboneBuilder.build(backbone: config.backbone, neck: config.neck, images: input, module: module)
        for (index, level) in levels.enumerated() {
            module.graph.markOutput(try module.graph.node(.scale(1), [level], name: "backbone.\(index)"))
        }
        module.graph.markOutput(try module.graph.node(.scale(1), [map], name: "features"))
        try weights.finish()
        graph = try module.graph.build()
    }

    static let cases = ["resnet_basic_cpfpn", "resnet50_reduced", "resnet_caffe_dcn_cpfpn", "vovnet_reduced_cpfpn", "vovnet_dw", "vit_features", "vim_features"]
}

/// Official-structure reference outputs reproduced to max |error| <= 1e-4 x max |output|.
final class BackboneFixtureTests: XCTestCase {
    func test_everyFixtureMatchesTheTorchReference() throws {
        let present = try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("backbones")).filter {
            FileManager.default.fileExists(atPath: TestPaths.fixture("backbones/\($0)/config.json"))
        }
        XCTAssertEqual(Set(present), Set(BackboneFixture.cases), "fixture list out of date")
        for name in BackboneFixture.cases {
            let fixture = try BackboneFixture(name)
            let c = fixture.config
            let channels = BackboneBuilder.featureChannels(backbone: c.backbone)
            XCTAssertEqual(fixture.expected.names.filter { $0.hasPrefix("backbone.") }.count, channels.count, name)
            for threads in [1, 2] {
                let outputs = try FP32Executor(graph: fixture.graph, threads: threads).run(["images": fixture.images])
                var keys = (0..<channels.count).map { "backbone.\($0)" }
                keys.append("features")
                for key in keys {
                    let reference = try fixture.expected.tensor(key)
                    let actual = try XCTUnwrap(outputs[key], "\(name): no \(key)")
                    XCTAssertEqual(actual.shape, reference.shape, "\(name) \(key)")
                    let (error, magnitude) = maxErrors(actual.floats(), reference.floats())
                    XCTAssertLessThanOrEqual(error, 1e-4 * magnitude, "\(name) \(key) threads \(threads)")
                    XCTAssertGreaterThan(magnitude, 0.5, "\(name) \(key): degenerate reference")
                    if threads == 1 { print("backbone fixture \(name) \(key): max|err| \(error), max|ref| \(magnitude), ratio \(error / magnitude)") }
                }
            }
            // The size helpers agree with the graph.
            let features = fixture.graph.info(fixture.graph.value(named: "features")!).shape
            XCTAssertEqual(features[1], BackboneBuilder.outputChannels(backbone: c.backbone, neck: c.neck), name)
            XCTAssertEqual(Array(features[2...]), BackboneBuilder.featureSize(backbone: c.backbone, neck: c.neck,
                                                                               imageSize: Array(fixture.images.shape[2...])), name)
            for (index, size) in channels.enumerated() {
                XCTAssertEqual(fixture.graph.info(fixture.graph.value(named: "backbone.\(index)")!).shape[1], size, "\(name) level \(index)")
            }
        }
    }

    /// The INT8 executor runs the backbones (max pools and upsampling on codes, hard sigmoid as
    /// a table island) and stays close to FP32.
    func test_int8FollowsFP32OnResNetAndVoVNet() throws {
        for name in ["resnet_basic_cpfpn", "vovnet_reduced_cpfpn"] {
            let fixture = try BackboneFixture(name)
            var random = TestRandom(seed: 3)
            let samples = (0..<4).map { _ in random.gaussian(fixture.images.shape) }
            let plan = try Calibrator.calibrate(graph: fixture.graph, recipe: QuantizationRecipe(), count: samples.count, threads: 2) {
                ["images": samples[$0]]
            }
            let int8 = try Int8Executor(graph: fixture.graph, plan: plan, threads: 2)
            for (node, execution) in zip(fixture.graph.nodes, int8.executions) {
                switch node.op {
                case .conv2d: XCTAssertEqual(execution, .integer, "\(name) \(node.name)")
                case .maxPool2d, .upsampleNearest: XCTAssertEqual(execution, .movement, "\(name) \(node.name)")
                case .hardSigmoid: XCTAssertEqual(execution, .floatIsland, "\(name) \(node.name)")
                default: break
                }
            }
            XCTAssertTrue(fixture.graph.nodes.contains { if case .maxPool2d = $0.op { return true }; return false }, name)
            XCTAssertTrue(fixture.graph.nodes.contains { if case .upsampleNearest = $0.op { return true }; return false }, name)
            let fp32 = try FP32Executor(graph: fixture.graph, threads: 2)
            for (index, x) in [fixture.images, samples[0]].enumerated() {
                let reference = try fp32.run(["images": x])["features"]!
                let quantized = try int8.run(["images": x])["features"]!
                let db = reference.withFloats { r in quantized.withFloats { q in QuantMetrics.sqnr(r, q) } }
                print("backbone int8 \(name) input \(index): SQNR \(db) dB")
                XCTAssertGreaterThan(db, 25, "\(name) input \(index): SQNR \(db) dB")
            }
        }
    }

    /// A quantized checkpoint stores each folded conv weight as int8 codes under the conv's
    /// name (as QuantizedBundle.save does); building from it takes the codes as already folded
    /// and derives only the bias from the batch norm again: the INT8 run is unchanged.
    func test_quantizedCheckpointIsNotFoldedTwice() throws {
        let name = "resnet_caffe_dcn_cpfpn"
        let fixture = try BackboneFixture(name)
        var random = TestRandom(seed: 4)
        let samples = (0..<3).map { _ in random.gaussian(fixture.images.shape) }
        var recipe = QuantizationRecipe()
        recipe.weights = .perChannel
        let plan = try Calibrator.calibrate(graph: fixture.graph, recipe: recipe, count: samples.count, threads: 2) { ["images": samples[$0]] }
        let int8 = try Int8Executor(graph: fixture.graph, plan: plan, threads: 2)
        let before = try int8.run(["images": fixture.images])["features"]!
        let quantized = int8.quantizedWeights()
        XCTAssertTrue(quantized.keys.contains("img_backbone.layer3.0.conv1.weight"))
        let source = try SafeTensorsFile(path: TestPaths.fixture("backbones/\(name)/weights.safetensors"))
        var tensors: [(name: String, tensor: Tensor)] = []
        for entry in source.entries {
            if let weight = quantized[entry.name] {
                tensors.append((entry.name, weight.codes))
                tensors.append((entry.name + WeightStore.scaleSuffix, try Tensor(shape: [weight.scales.count], values: weight.scales)))
            } else {
                tensors.append((entry.name, source.tensor(entry)))
            }
        }
        let directory = TestPaths.temporaryDirectory("quantized-backbone")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SafeTensorsWriter.write(tensors, to: "\(directory)/weights.safetensors")
        let weights = WeightStore(file: try SafeTensorsFile(path: "\(directory)/weights.safetensors"))
        let module = ModuleBuilder(graph: GraphBuilder(), weights: weights)
        let input = try module.graph.input("images", shape: fixture.images.shape)
        let (levels, map) = try BackboneBuilder.build(backbone: fixture.config.backbone, neck: fixture.config.neck, images: input, module: module)
        for (index, level) in levels.enumerated() {
            module.graph.markOutput(try module.graph.node(.scale(1), [level], name: "backbone.\(index)"))
        }
        module.graph.markOutput(try module.graph.node(.scale(1), [map], name: "features"))
        try weights.finish()
        let reloaded = try module.graph.build()
        let after = try Int8Executor(graph: reloaded, plan: plan, threads: 2).run(["images": fixture.images])["features"]!
        XCTAssertEqual(after.floats(), before.floats())
    }

    func test_badConfigsNameTheFileAndField() throws {
        func decode(_ json: String) throws -> BackboneFixtureConfig {
            try JSONDecoder().decode(BackboneFixtureConfig.self, from: Data(json.utf8))
        }
        func message(_ json: String) -> String {
            do {
                let c = try decode(json)
                try BackboneBuilder.validate(backbone: c.backbone, neck: c.neck, path: "config.json")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message(#"{"backbone": {"type": "resnet", "depth": 42}}"#),
                       "config.json: backbone.depth: 42 is not 18, 34, 50, 101 or 152")
        XCTAssertEqual(message(#"{"backbone": {"type": "resnet", "depth": 50, "style": "tf"}}"#),
                       "config.json: backbone.style: 'tf' is not 'pytorch' or 'caffe'")
        XCTAssertEqual(message(#"{"backbone": {"type": "resnet", "block": "basic", "layers": [1, 1], "out_indices": [3]}}"#),
                       "config.json: backbone.out_indices: must be increasing stage indices in 0..<2, got [3]")
        XCTAssertEqual(message(#"{"backbone": {"type": "resnet", "layers": [1, 1, 1, 1]}}"#),
                       "config.json: backbone.block: needed (basic or bottleneck) when depth is absent")
        XCTAssertTrue(message(#"{"backbone": {"type": "vovnet", "spec": "V-98"}}"#).hasPrefix("config.json: backbone.spec: 'V-98' is not one of"))
        XCTAssertEqual(message(#"{"backbone": {"type": "vovnet", "spec": "V-99-eSE", "out_features": ["stage6"]}}"#),
                       "config.json: backbone.out_features: must be increasing names among stem, stage2, stage3, stage4, stage5, got [\"stage6\"]")
        XCTAssertEqual(message(#"{"backbone": {"type": "vovnet", "spec": "V-99-eSE", "layers_per_block": 3}}"#),
                       "config.json: backbone.spec: 'V-99-eSE' is a named spec; stage fields are only allowed with \"spec\": \"custom\"")
        XCTAssertEqual(message(#"{"backbone": {"type": "vit", "patch_size": 8, "embed_dim": 30, "depth": 1, "num_heads": 4}}"#),
                       "config.json: backbone.num_heads: 4 must divide embed_dim 30")
        XCTAssertEqual(message(#"{"backbone": {"type": "vovnet", "spec": "V-99-eSE"}, "neck": {"type": "cpfpn", "in_channels": [512, 1024], "out_channels": 256}}"#),
                       "config.json: neck.in_channels: [512, 1024] differ from the backbone's output channels [768, 1024]")
        XCTAssertEqual(message(#"{"backbone": {"type": "vovnet", "spec": "V-99-eSE"}, "neck": null}"#),
                       "config.json: neck: the backbone has 2 outputs: a neck is needed (or one output)")
        XCTAssertEqual(message(#"{"backbone": {"type": "resnet", "depth": 50}, "neck": {"type": "cpfpn", "in_channels": [2048], "out_channels": 0}}"#),
                       "config.json: neck.out_channels: must be > 0")
        XCTAssertEqual(message(#"{"backbone": {"type": "resnet", "depth": 50}}"#), "no error")
        // Unknown types are decoding errors whose coding path names the field.
        for json in [#"{"backbone": {"type": "swin"}}"#, #"{"backbone": {"type": "resnet"}, "neck": {"type": "fpn", "in_channels": [1], "out_channels": 1}}"#] {
            XCTAssertThrowsError(try decode(json)) { error in
                guard case let DecodingError.dataCorrupted(context) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(context.codingPath.last?.stringValue, "type")
            }
        }
        // Encoding round-trips.
        for json in [#"{"type": "resnet", "depth": 50, "out_indices": [2, 3], "style": "caffe"}"#,
                     #"{"type": "vovnet", "spec": "V-99-eSE", "out_features": ["stage4", "stage5"]}"#,
                     #"{"type": "vit", "patch_size": 8, "embed_dim": 128, "depth": 4, "num_heads": 4}"#] {
            let config = try JSONDecoder().decode(BackboneConfig.self, from: Data(json.utf8))
            XCTAssertEqual(try JSONDecoder().decode(BackboneConfig.self, from: try JSONEncoder().encode(config)), config)
        }
    }
}
