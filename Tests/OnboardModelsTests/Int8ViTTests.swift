import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant
import OnboardTestSupport
import XCTest

/// A fixture's graph (batch 1) calibrated on seeded random inputs, and those inputs.
func calibratedFixture(_ name: String, recipe: QuantizationRecipe = QuantizationRecipe(), samples: Int = 8, seed: UInt64 = 11)
    throws -> (graph: Graph, plan: QuantizationPlan, inputs: [Tensor]) {
    let bundle = try ModelBundle(directory: TestPaths.fixture("vit/\(name)"))
    let graph = try bundle.graph(batch: 1)
    let shape = bundle.inputShapes(batch: 1)["pixel_values"]!
    var random = TestRandom(seed: seed)
    let inputs = (0..<samples).map { _ in random.gaussian(shape) }
    let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples, threads: 2) { ["pixel_values": inputs[$0]] }
    return (graph, plan, inputs)
}

/// The INT8 executor on real ViT graphs: close to FP32, integer where it should be.
final class Int8ViTTests: XCTestCase {
    func sqnr(_ reference: Tensor, _ test: Tensor) -> Double {
        reference.withFloats { r in test.withFloats { t in QuantMetrics.sqnr(r, t) } }
    }

    func test_int8FollowsFP32OnEveryFixture() throws {
        for name in ["cls_token", "avg_fc_norm_nonsquare", "deit_distilled", "reg_layer_scale_gelu_tanh", "pre_norm_no_qkv_bias"] {
            let (graph, plan, inputs) = try calibratedFixture(name)
            let fp32 = try FP32Executor(graph: graph, threads: 2)
            let int8 = try Int8Executor(graph: graph, plan: plan, threads: 2)
            let x = inputs[0]
            let reference = try fp32.run(["pixel_values": x])["logits"]!
            let quantized = try int8.run(["pixel_values": x])["logits"]!
            let db = sqnr(reference, quantized)
            XCTAssertGreaterThan(db, 15, "\(name): SQNR \(db) dB")
            // All linears and the attention matmuls are integer.
            for (node, execution) in zip(graph.nodes, int8.executions) {
                switch node.op {
                case .linear, .matmul, .conv2d: XCTAssertEqual(execution, .integer, "\(name) \(node.name)")
                default: break
                }
            }
            print("\(name): int8 SQNR \(String(format: "%.1f", db)) dB, float ops \(int8.floatOps.count)")
        }
    }
}

final class QuantizedBundleTests: XCTestCase {
    func test_savingAndLoadingGivesBitIdenticalOutputs() throws {
        let source = try ModelBundle(directory: TestPaths.fixture("vit/deit_distilled"))
        let graph = try source.graph(batch: 1)
        var random = TestRandom(seed: 4)
        let shape = source.inputShapes(batch: 1)["pixel_values"]!
        let samples = (0..<4).map { _ in random.gaussian(shape) }
        for granularity in [QuantizationRecipe.Granularity.perTensor, .perChannel] {
            var recipe = QuantizationRecipe()
            recipe.weights = granularity
            let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: 4, threads: 2) { ["pixel_values": samples[$0]] }
            let inMemory = try Int8Executor(graph: graph, plan: plan, threads: 2)
            let directory = TestPaths.temporaryDirectory("qbundle")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let target = "\(directory)/int8"
            try QuantizedBundle.save(source: source, plan: plan, weights: inMemory.quantizedWeights(), to: target)
            XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: target)), ["config.json", "model.safetensors", "quant.json", OutputManifest.name])
            let stored = try SafeTensorsFile(path: "\(target)/model.safetensors")
            XCTAssertEqual(stored.entry("blocks.0.attn.qkv.weight")?.dtype, .i8)
            XCTAssertEqual(stored.entry("blocks.0.attn.qkv.weight.qscale")?.shape, [granularity == .perChannel ? 96 : 1])
            let reloaded = try ModelBundle(directory: target)
            let reloadedPlan = try XCTUnwrap(try QuantizedBundle.plan(of: reloaded))
            XCTAssertEqual(reloadedPlan, plan)
            let fromDisk = try Int8Executor(graph: try reloaded.graph(batch: 1), plan: reloadedPlan, threads: 2)
            let x = random.gaussian(shape)
            XCTAssertEqual(try inMemory.run(["pixel_values": x])["logits"]!.floats(), try fromDisk.run(["pixel_values": x])["logits"]!.floats())
            // The float executor also runs a quantized bundle (weights dequantized).
            let weightOnly = try FP32Executor(graph: try reloaded.graph(batch: 1), threads: 2).run(["pixel_values": x])["logits"]!
            let exact = try FP32Executor(graph: graph, threads: 2).run(["pixel_values": x])["logits"]!
            XCTAssertGreaterThan(exact.withFloats { e in weightOnly.withFloats { QuantMetrics.sqnr(e, $0) } }, 25)
        }
    }

    /// A low-bit recipe's bundle: 4-bit weights stored two per byte, CFWS weights kept float, the
    /// per-patch and Shift-Log2 parameters in the plan; reloaded it computes exactly the same.
    /// Per-channel, CFWS and grouped 4-bit weights.
    func test_lowBitBundleStoresFourBitWeightsPackedAndReloadsBitIdentical() throws {
        let source = try ModelBundle(directory: TestPaths.fixture("vit/deit_distilled"))
        let graph = try source.graph(batch: 1)
        var random = TestRandom(seed: 6)
        let shape = source.inputShapes(batch: 1)["pixel_values"]!
        let samples = (0..<4).map { _ in random.gaussian(shape) }
        let variants: [(cfws: Double?, group: Int?)] = [(nil, nil), (0.01, nil), (nil, 16)]
        for (cfws, group) in variants {
            var lowBit = LowBitRecipe()
            (lowBit.scope, lowBit.activationBits, lowBit.postLayerNorm, lowBit.postGELU) = (["blocks."], 4, .perPatch, .shiftLog2)
            (lowBit.cfwsFraction, lowBit.weightGroupSize) = (cfws, group)
            var recipe = QuantizationRecipe()
            recipe.lowBit = lowBit
            let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: 4, threads: 2) { ["pixel_values": samples[$0]] }
            XCTAssertEqual(plan.perToken?.count, 2 * 2, "qkv and fc1 inputs of the fixture's two blocks")
            XCTAssertEqual(plan.logCodes?.count, 2)
            let inMemory = try Int8Executor(graph: graph, plan: plan, threads: 2)
            let directory = TestPaths.temporaryDirectory("qbundle-lowbit")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try QuantizedBundle.save(source: source, plan: plan, weights: inMemory.quantizedWeights(), to: "\(directory)/int8")
            let stored = try SafeTensorsFile(path: "\(directory)/int8/model.safetensors")
            let qkv = try XCTUnwrap(stored.entry("blocks.0.attn.qkv.weight"))
            if cfws == nil {
                XCTAssertEqual(qkv.dtype, .u8)
                XCTAssertEqual(qkv.shape, [96, 16], "[3 D, D / 2]: two codes a byte")
                XCTAssertEqual(stored.entry("blocks.0.attn.qkv.weight.qscale")?.shape, group == nil ? [96] : [96, 2], "a scale per group of 16 inputs")
            } else {
                XCTAssertEqual(qkv.dtype, .f32, "CFWS weights have no single code per element")
            }
            XCTAssertEqual(stored.entry("head.weight")?.dtype, .i8, "out of scope: 8-bit")
            let reloaded = try ModelBundle(directory: "\(directory)/int8")
            let fromDisk = try Int8Executor(graph: try reloaded.graph(batch: 1), plan: try XCTUnwrap(QuantizedBundle.plan(of: reloaded)), threads: 2)
            let x = random.gaussian(shape)
            XCTAssertEqual(try inMemory.run(["pixel_values": x])["logits"]!.floats(), try fromDisk.run(["pixel_values": x])["logits"]!.floats())
        }
    }

    func test_diagnosisCoversEveryComputedTensorWorstFirst() throws {
        let (graph, plan, samples) = try calibratedFixture("cls_token", samples: 4, seed: 8)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        let reports = try QuantizationDiagnosis.compare(reference: graph, quantized: executor, inputs: ["pixel_values": samples[0]], threads: 2)
        XCTAssertEqual(reports.count, graph.nodes.filter { !$0.op.isView }.count)
        XCTAssertEqual(reports.map(\.accumulated.sqnr), reports.map(\.accumulated.sqnr).sorted())
        // Errors accumulate: the logits' accumulated SQNR is below the first linear's.
        let logits = try XCTUnwrap(reports.first { $0.name == "head" })
        let first = try XCTUnwrap(reports.first { $0.name == "blocks.0.attn.qkv" })
        XCTAssertLessThan(logits.accumulated.sqnr, first.accumulated.sqnr)
        XCTAssertGreaterThan(first.isolated.sqnr, 25)
        // Isolated error of an integer op is its own quantization only: no worse than accumulated.
        for report in reports where report.execution == "integer" {
            XCTAssertGreaterThanOrEqual(report.isolated.sqnr + 1, report.accumulated.sqnr, report.name)
        }
    }
}
