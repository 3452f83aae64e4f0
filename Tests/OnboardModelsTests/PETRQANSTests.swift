import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant
import OnboardTestSupport
import XCTest

/// The shipped Q-PETR recipe on the tiny PETR head: QANS logits, integer softmax and layernorm, no
/// float island left for either, and outputs at least as close to FP32 as plain per-tensor INT8.
final class PETRQANSTests: XCTestCase {
    struct Measured {
        let classScores: Double
        let boxes: Double
        let floatOps: [String]
        let precomputedOps: [String]
        let graph: Graph
        let plan: QuantizationPlan
    }

    func measure(_ recipe: QuantizationRecipe) throws -> Measured {
        let directory = TestPaths.fixture("petr/tiny_lid")
        let bundle = try ModelBundle(directory: directory)
        guard let config = bundle.model as? PETRConfig else { throw OnboardError.model(item: "tiny_lid", reason: "not PETR") }
        let inputs = try SafeTensorsFile(path: "\(directory)/inputs.safetensors").allTensors()
        let fp32 = try PETRModel(bundle: bundle, input: .features(height: 4, width: 8), threads: 2)
        let lidar2img = try XCTUnwrap(inputs["lidar2img"])
        let coords = try PETRGeometry.coords3d(head: config.head, imageSize: config.imageSize, featureSize: [4, 8],
                                               lidar2img: lidar2img, source: "inputs")
        var random = TestRandom(seed: 21)
        let samples = (0..<6).map { _ in ["features": random.gaussian([2, 16, 4, 8]), "coords3d": coords] }
        let plan = try Calibrator.calibrate(graph: fp32.built.graph, recipe: recipe, count: samples.count, threads: 2, sample: { samples[$0] })
        var executor: Int8Executor?
        let int8 = try PETRModel(bundle: bundle, input: .features(height: 4, width: 8), threads: 2) { graph in
            let made = try Int8Executor(graph: graph, plan: plan, threads: 2)
            executor = made
            return made
        }
        let a = try fp32.run(inputs, source: "inputs"), b = try int8.run(inputs, source: "inputs")
        func sqnr(_ x: Tensor, _ y: Tensor) -> Double { x.withFloats { r in y.withFloats { QuantMetrics.sqnr(r, $0) } } }
        return Measured(classScores: sqnr(a.allClassScores, b.allClassScores), boxes: sqnr(a.allBboxPredictions, b.allBboxPredictions),
                        floatOps: try XCTUnwrap(executor).floatOps,
                        precomputedOps: try XCTUnwrap(executor).precomputedOps, graph: fp32.built.graph, plan: plan)
    }

    func test_qpetrRecipeRunsTheHeadWithoutSoftmaxOrLayerNormIslands() throws {
        let recipes = (TestPaths.root as NSString).appendingPathComponent("Configs/recipes")
        let plain = try measure(QuantizationRecipe())
        let naive = try measure(try QuantizationRecipe.load(path: "\(recipes)/int8-per-tensor-percentile.json"))
        let qpetr = try measure(try QuantizationRecipe.load(path: "\(recipes)/qpetr-int8.json"))
        for (name, m) in [("minmax plain", plain), ("percentile plain", naive), ("qpetr", qpetr)] {
            print(String(format: "PETR tiny_lid %@: all_cls_scores SQNR %.1f dB, bbox SQNR %.1f dB, %d float ops",
                         name as NSString, m.classScores, m.boxes, m.floatOps.count))
        }
        let kinds = Dictionary(uniqueKeysWithValues: qpetr.graph.nodes.map { ($0.name, $0.op.kind) })
        let floatKinds = Set(qpetr.floatOps.compactMap { kinds[$0] })
        print("PETR tiny_lid qpetr float op kinds: \(floatKinds.sorted())")
        // What stays in float: the concats of the f32 branch outputs. The first layer's self-attention
        // reads constants only (the zero target and the query embedding): it is computed once, up to
        // the cross-attention's query projection.
        let layer0 = "pts_bbox_head.transformer.decoder.layers.0"
        XCTAssertEqual(qpetr.floatOps, ["cls_scores", "bbox_raw"])
        XCTAssertTrue(Set(qpetr.precomputedOps).isSuperset(of: ["\(layer0).self_attn.query", "\(layer0).attentions.0.attn.softmax",
                                                               "\(layer0).norms.0", "\(layer0).attentions.1.attn.q"]))
        XCTAssertFalse(qpetr.precomputedOps.contains("\(layer0).attentions.1.attn.scores"))
        XCTAssertFalse(floatKinds.contains("softmax"))
        XCTAssertFalse(floatKinds.contains("layernorm"))
        XCTAssertTrue(Set(plain.floatOps.compactMap { kinds[$0] }).isSuperset(of: ["softmax", "layernorm"]))
        // Every attention's logits are stabilized: calibrated over [lower, 0].
        let logits = qpetr.graph.nodes.filter { $0.name.hasSuffix("attn.scores") }
        XCTAssertEqual(logits.count, 4)
        for node in logits {
            let q = try XCTUnwrap(qpetr.plan.activations[node.name])
            XCTAssertEqual(q.zeroPoint, 255, node.name)
        }
        // ... and every attention's probabilities reach their AV product unnormalized.
        let probabilities = qpetr.graph.nodes.filter { $0.op == .softmax }
        XCTAssertEqual(probabilities.count, 4)
        for node in probabilities {
            XCTAssertEqual(qpetr.plan.activations[node.name], SoftmaxNormalization.parameters, node.name)
        }
        XCTAssertGreaterThan(qpetr.classScores, 15)
        XCTAssertGreaterThan(qpetr.boxes, 15)
    }
}
