import Foundation
@testable import OnboardPipeline
import OnboardKit
import OnboardTestSupport
import XCTest

/// Sentence embeddings of the real all-MiniLM-L6-v2 in INT8 against FP32, on evaluation sentences
/// (Tests/Fixtures/text/debian-descriptions.txt) that calibration never sees.
final class SentenceEmbeddingTests: XCTestCase {
    static func evaluation(_ count: Int) throws -> [String] {
        Array(try SentenceFile.read(TestPaths.fixture("text/debian-descriptions.txt")).prefix(count))
    }

    static func cosines(_ a: Tensor, _ b: Tensor) -> [Float] {
        let width = a.shape[1]
        return (0..<a.shape[0]).map { row in
            var dot: Float = 0
            for j in row * width..<(row + 1) * width { dot += a.floatPointer[j] * b.floatPointer[j] }
            return dot
        }
    }

    static func fp32(_ graph: Graph) throws -> any GraphRunner { try FP32Executor(graph: graph, threads: 2) }

    /// FP32 embeddings in batches of 4, with whatever transforms `encoder` carries.
    static func floatEmbeddings(_ ids: [[Int32]], _ encoder: SentenceEncoder) throws -> Tensor {
        try SentenceEmbedding.embed(ids, encoder: encoder, batch: 4, runner: fp32)
    }

    func testBatchingByLengthGivesTheUnbatchedEmbeddings() throws {
        let encoder = try SentenceEncoder(directory: try TestPaths.requireMiniLM())
        let ids = encoder.encode(try Self.evaluation(12)).ids + encoder.encode(["a b c", "x y z", "one two three"]).ids
        let single = try SentenceEmbedding.embed(ids, encoder: encoder, batch: 1, runner: Self.fp32)
        let batched = try SentenceEmbedding.embed(ids, encoder: encoder, batch: 8, runner: Self.fp32)
        XCTAssertGreaterThanOrEqual(Self.cosines(single, batched).min() ?? 0, 0.999999)
    }

    func testSmoothingTransformsAreExactInFloat() throws {
        var encoder = try SentenceEncoder(directory: try TestPaths.requireMiniLM())
        let ids = encoder.encode(try Self.evaluation(6)).ids
        let plain = try Self.floatEmbeddings(ids, encoder)
        var recipe = QuantizationRecipe()
        recipe.smoothing = .smoothQuant
        let (transforms, qsur) = try BertSmoothing.transforms(encoder: encoder, recipe: recipe, ids: ids, threads: 2)
        XCTAssertGreaterThan(qsur.after, 1.5 * qsur.before)  // smoothing fills more of the quantization range
        let scales = transforms.layers.flatMap { [$0.attentionInput, $0.ffnInput, $0.valueOutput].compactMap { $0 } }
        XCTAssertEqual(scales.count, 18)
        XCTAssertGreaterThan(scales.flatMap { $0 }.max() ?? 0, 2)  // the outlier channels are really moved
        encoder.transforms = transforms
        let smoothed = try Self.floatEmbeddings(ids, encoder)
        XCTAssertGreaterThanOrEqual(Self.cosines(plain, smoothed).min() ?? 0, 0.99999)
    }

    func testRotationsAreExactInFloat() throws {
        var encoder = try SentenceEncoder(directory: try TestPaths.requireMiniLM())
        let ids = encoder.encode(try Self.evaluation(6)).ids
        let plain = try Self.floatEmbeddings(ids, encoder)
        for seed in [nil, 5] as [UInt64?] {
            encoder.transforms = try BertRotation.rotating(nil, config: encoder.config, rotation: .hadamard, seed: seed)
            let graph = try encoder.graph(batch: 1, length: 4)
            XCTAssertEqual(graph.nodes.filter { $0.op == .hadamard }.count, encoder.config.numHiddenLayers)
            let rotated = try Self.floatEmbeddings(ids, encoder)
            XCTAssertGreaterThanOrEqual(Self.cosines(plain, rotated).min() ?? 0, 0.99999, "seed \(String(describing: seed))")
        }
        XCTAssertThrowsError(try BertRotation.rotating(nil, config: encoder.config, rotation: .kltHadamard, seed: nil))
    }

    func testResidualSmoothingIsExactInFloat() throws {
        var encoder = try SentenceEncoder(directory: try TestPaths.requireMiniLM())
        let ids = encoder.encode(try Self.evaluation(6)).ids
        let plain = try Self.floatEmbeddings(ids, encoder)
        var recipe = QuantizationRecipe()
        (recipe.smoothing, recipe.residualSmoothing) = (.smoothQuant, true)
        encoder.transforms = try BertSmoothing.transforms(encoder: encoder, recipe: recipe, ids: ids, threads: 2).transforms
        let factors = try XCTUnwrap(encoder.transforms).layers.flatMap { [$0.attentionResidual, $0.ffnResidual].compactMap { $0 } }
        XCTAssertEqual(factors.count, 12)
        XCTAssertGreaterThan(factors.flatMap { $0 }.max() ?? 0, 10)  // the residual's outlier channels are divided
        XCTAssertEqual(factors.flatMap { $0 }.min(), 1)
        let smoothed = try Self.floatEmbeddings(ids, encoder)
        XCTAssertGreaterThanOrEqual(Self.cosines(plain, smoothed).min() ?? 0, 0.99999)
    }

    func testShippedIntegerRecipeRunsIntegerOnlyCloseToFP32() throws {
        var encoder = try SentenceEncoder(directory: try TestPaths.requireMiniLM())
        let ids = encoder.encode(try Self.evaluation(40)).ids
        let reference = try SentenceEmbedding.embed(ids, encoder: encoder, batch: 8) { try FP32Executor(graph: $0, threads: 2) }
        let recipe = try QuantizationRecipe.load(path: TestPaths.root + "/Configs/recipes/minilm-int8-integer.json")
        let calibration = try SentenceFile.read(TestPaths.root + "/" + TextCalibration.shippedSet)
        let plan = try TextCalibration.plan(encoder: &encoder, recipe: recipe, texts: calibration, count: 32, threads: 2)
        let executor = try Int8Executor(graph: try encoder.graph(batch: 1, length: 12), plan: plan, threads: 2)
        let kinds = Dictionary(executor.graph.nodes.map { ($0.name, $0.op.kind) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(Set(executor.floatOps.compactMap { kinds[$0] }), ["gather", "reduce_mean"])  // the embedding lookup and the pooling
        let int8 = try SentenceEmbedding.embed(ids, encoder: encoder, batch: 8) { try Int8Executor(graph: $0, plan: plan, threads: 2) }
        let cosines = Self.cosines(reference, int8)
        let mean = cosines.reduce(0, +) / Float(cosines.count)
        print("minilm-int8-integer, 32 calibration sentences: worst \(cosines.min() ?? 0), mean \(mean)")
        XCTAssertGreaterThanOrEqual(cosines.min() ?? 0, 0.96)
        XCTAssertGreaterThanOrEqual(mean, 0.985)
    }

    func testShippedInt8RecipeStaysCloseToFP32() throws {
        let (worst, mean) = try Self.shippedRecipeCosines("minilm-int8")
        XCTAssertGreaterThanOrEqual(worst, 0.99)
        XCTAssertGreaterThanOrEqual(mean, 0.995)
    }

    /// Per-token dynamic activations reach the transforms' fidelity without them; the same recipe
    /// with static per-tensor inputs stays well below.
    func testPerTokenDynamicActivationsStayCloseToFP32() throws {
        let (worst, mean) = try Self.shippedRecipeCosines("minilm-w8a8-per-token")
        XCTAssertGreaterThanOrEqual(worst, 0.99)
        XCTAssertGreaterThanOrEqual(mean, 0.995)
        let (staticWorst, _) = try Self.shippedRecipeCosines("minilm-int8-per-channel")
        XCTAssertLessThan(staticWorst, worst - 0.005)
    }

    /// W4A8: a scale per group of 128 inputs keeps clearly more of the model than one per output
    /// channel. Both over their largest weight: the shipped MSE search takes minutes in a debug build.
    func testGroupedFourBitWeightsBeatPerChannelOnes() throws {
        let (worst, mean) = try Self.shippedRecipeCosines("minilm-w4a8-g128") { $0.lowBit?.weightClip = .max }
        XCTAssertGreaterThanOrEqual(mean, 0.93)
        let (perChannelWorst, perChannelMean) = try Self.shippedRecipeCosines("minilm-w4a8-g128") {
            $0.lowBit?.weightClip = .max
            $0.lowBit?.weightGroupSize = nil
        }
        XCTAssertLessThan(perChannelMean, mean - 0.01)
        XCTAssertLessThan(perChannelWorst, worst)
    }

    /// Worst and mean cosine to FP32 of a shipped recipe (`changing` it first) on 40 evaluation
    /// sentences, calibrated on 32 sentences of the shipped set.
    private static func shippedRecipeCosines(_ name: String, changing change: (inout QuantizationRecipe) -> Void = { _ in })
        throws -> (worst: Float, mean: Float) {
        var encoder = try SentenceEncoder(directory: try TestPaths.requireMiniLM())
        let ids = encoder.encode(try evaluation(40)).ids
        let reference = try SentenceEmbedding.embed(ids, encoder: encoder, batch: 8) { try FP32Executor(graph: $0, threads: 2) }
        var recipe = try QuantizationRecipe.load(path: TestPaths.root + "/Configs/recipes/\(name).json")
        change(&recipe)
        let calibration = try SentenceFile.read(TestPaths.root + "/" + TextCalibration.shippedSet)
        let plan = try TextCalibration.plan(encoder: &encoder, recipe: recipe, texts: calibration, count: 32, threads: 2)
        let weights = QuantizedWeightCache()
        let int8 = try SentenceEmbedding.embed(ids, encoder: encoder, batch: 8) {
            try Int8Executor(graph: $0, plan: plan, threads: 2, weightCache: weights)
        }
        let cosines = cosines(reference, int8)
        let mean = cosines.reduce(0, +) / Float(cosines.count)
        print("\(name), 32 calibration sentences: worst \(cosines.min() ?? 0), mean \(mean)")
        return (cosines.min() ?? 0, mean)
    }
}
