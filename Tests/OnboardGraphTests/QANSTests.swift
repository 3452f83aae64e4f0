import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// An attention graph whose logits carry large offsets that plain per-tensor quantization has to cover.
struct AttentionFixture {
    static let heads = 4, keys = 32, depth = 16
    /// Query rows per head (above `Int8MatMul.blockRows` to cover several int32 blocks).
    var queries = 16

    /// q [H, M, D] · kᵀ (alpha) -> softmax -> · v [H, N, D]: `context` is the only output.
    func attentionGraph(alpha: Float = 1) throws -> Graph {
        let g = GraphBuilder()
        let q = try g.input("q", shape: [Self.heads, queries, Self.depth])
        let k = try g.input("k", shape: [Self.heads, Self.keys, Self.depth])
        let v = try g.input("v", shape: [Self.heads, Self.keys, Self.depth])
        let scores = try g.node(.matmul(transposeB: true, alpha: alpha), [q, k], name: "scores")
        let probs = try g.node(.softmax, [scores], name: "probs")
        g.markOutput(try g.node(.matmul(transposeB: false), [probs, v], name: "context"))
        return try g.build()
    }

    /// Row offsets: every key has 5 in its first 8 dims, every query row one value u in [-3, 3]
    /// there, so each row's logits share an offset 40u in [-120, 120] on top of the informative
    /// N(0, 1) part of the other 8 dims (spread ~2.8). Softmax ignores the offset; a per-tensor
    /// scale over the logits has to cover all of it (head-dependent dot-product scales, Q-PETR's
    /// third cause).
    func rowOffsetSample(_ random: inout TestRandom) -> [String: Tensor] {
        let q = random.gaussian([Self.heads, queries, Self.depth]), k = random.gaussian([Self.heads, Self.keys, Self.depth])
        q.withMutableFloats { values in
            for row in 0..<(Self.heads * queries) {
                let u = Float.random(in: -3...3, using: &random.generator)
                for d in 0..<8 { values[row * Self.depth + d] = u }
            }
        }
        k.withMutableFloats { values in
            for row in 0..<(Self.heads * Self.keys) { for d in 0..<8 { values[row * Self.depth + d] = 5 } }
        }
        return ["q": q, "k": k, "v": random.gaussian([Self.heads, Self.keys, Self.depth])]
    }

    /// Outlier keys: plain N(0, 1) attention, except that in one query row of each head one key's
    /// logit is +120 (its dims 0-3 are 7.5 where that query has 4): a few huge logits.
    func outlierSample(_ random: inout TestRandom) -> [String: Tensor] {
        let q = random.gaussian([Self.heads, queries, Self.depth]), k = random.gaussian([Self.heads, Self.keys, Self.depth])
        q.withMutableFloats { values in
            for row in 0..<(Self.heads * queries) { for d in 0..<4 { values[row * Self.depth + d] = row % queries == 3 ? 4 : 0 } }
        }
        k.withMutableFloats { values in
            for row in 0..<(Self.heads * Self.keys) { for d in 0..<4 { values[row * Self.depth + d] = row % Self.keys == 7 ? 7.5 : 0 } }
        }
        return ["q": q, "k": k, "v": random.gaussian([Self.heads, Self.keys, Self.depth])]
    }

    func plan(_ graph: Graph, _ recipe: QuantizationRecipe, _ samples: [[String: Tensor]]) throws -> QuantizationPlan {
        try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
    }

    func recipe(_ input: QuantizationRecipe.SoftmaxInput, softmax: QuantizationRecipe.SoftmaxKernel? = nil, clip: Double? = nil) -> QuantizationRecipe {
        var recipe = QuantizationRecipe()
        recipe.softmaxInput = input
        recipe.softmax = softmax
        recipe.softmaxClip = clip
        return recipe
    }

    /// Attention-output SQNR (dB) of the INT8 executor against FP32 on `test`, after calibrating on `calibration`.
    func contextSQNR(_ graph: Graph, _ recipe: QuantizationRecipe, calibration: [[String: Tensor]], test: [String: Tensor]) throws -> Double {
        let executor = try Int8Executor(graph: graph, plan: try plan(graph, recipe, calibration), threads: 2)
        let exact = try FP32Executor(graph: graph, threads: 2).run(test)["context"]!
        let quantized = try executor.run(test)["context"]!
        return exact.withFloats { e in quantized.withFloats { QuantMetrics.sqnr(e, $0) } }
    }

}

/// QANS (Q-PETR): the softmax input quantized after subtracting each row's max.
final class QANSTests: XCTestCase {
    typealias F = AttentionFixture
    let fixture = AttentionFixture()
    func attentionGraph(alpha: Float = 1) throws -> Graph { try fixture.attentionGraph(alpha: alpha) }
    func rowOffsetSample(_ random: inout TestRandom) -> [String: Tensor] { fixture.rowOffsetSample(&random) }
    func outlierSample(_ random: inout TestRandom) -> [String: Tensor] { fixture.outlierSample(&random) }
    func plan(_ graph: Graph, _ recipe: QuantizationRecipe, _ samples: [[String: Tensor]]) throws -> QuantizationPlan {
        try fixture.plan(graph, recipe, samples)
    }
    func recipe(_ input: QuantizationRecipe.SoftmaxInput, softmax: QuantizationRecipe.SoftmaxKernel? = nil, clip: Double? = nil) -> QuantizationRecipe {
        fixture.recipe(input, softmax: softmax, clip: clip)
    }
    func contextSQNR(_ graph: Graph, _ recipe: QuantizationRecipe, calibration: [[String: Tensor]], test: [String: Tensor]) throws -> Double {
        try fixture.contextSQNR(graph, recipe, calibration: calibration, test: test)
    }

    override func tearDown() { KernelISA.reset() }

    func test_stabilizedLogitsBeatPlainPerTensorWithRowOffsets() throws {
        let graph = try attentionGraph()
        var random = TestRandom(seed: 31)
        let calibration = (0..<4).map { _ in rowOffsetSample(&random) }
        let test = rowOffsetSample(&random)
        let plain = try contextSQNR(graph, recipe(.plain), calibration: calibration, test: test)
        let qansFloat = try contextSQNR(graph, recipe(.stabilized, softmax: .float), calibration: calibration, test: test)
        let qans = try contextSQNR(graph, recipe(.stabilized), calibration: calibration, test: test)
        var floatLogits = recipe(.plain)
        floatLogits.keepFloat = ["scores"]
        let ceiling = try contextSQNR(graph, floatLogits, calibration: calibration, test: test)
        print(String(format: "row offsets: context SQNR plain %.1f dB, QANS + float softmax %.1f dB, QANS + LUT softmax %.1f dB, float logits %.1f dB",
                     plain, qansFloat, qans, ceiling))
        // Measured: 16.5, 27.1, 27.1, 27.0 dB.
        XCTAssertLessThan(plain, 20, "plain per-tensor logits lose the within-row differences")
        XCTAssertGreaterThan(qansFloat, plain + 8)
        XCTAssertGreaterThan(qans, plain + 8)
        XCTAssertGreaterThan(qans, ceiling - 1, "QANS leaves about as much as not quantizing the logits at all")
        XCTAssertGreaterThan(qans, qansFloat - 0.5, "the integer softmax costs at most a fraction of a dB")
    }

    func test_clippedStabilizedLogitsBeatPlainWithOutlierKeys() throws {
        let graph = try attentionGraph()
        var random = TestRandom(seed: 41)
        let calibration = (0..<4).map { _ in outlierSample(&random) }
        let test = outlierSample(&random)
        let plain = try contextSQNR(graph, recipe(.plain), calibration: calibration, test: test)
        let unclipped = try contextSQNR(graph, recipe(.stabilized), calibration: calibration, test: test)
        let clipped = try contextSQNR(graph, recipe(.stabilized, clip: 15), calibration: calibration, test: test)
        var floatLogits = recipe(.plain)
        floatLogits.keepFloat = ["scores"]
        let ceiling = try contextSQNR(graph, floatLogits, calibration: calibration, test: test)
        print(String(format: "outlier keys: context SQNR plain %.1f dB, QANS %.1f dB, QANS clip 15 %.1f dB, float logits %.1f dB",
                     plain, unclipped, clipped, ceiling))
        // Measured: 21.3, 24.6, 30.6, 30.8 dB. The +120 logit sets the range either way ([-12, 132]
        // plain, [-132, 0] stabilized); clipping the stabilized range at -15 (e^-15 is far below an
        // output step) gives the logits that matter fine steps again.
        XCTAssertGreaterThan(clipped, plain + 6)
        XCTAssertGreaterThan(clipped, unclipped + 4)
        XCTAssertGreaterThan(clipped, ceiling - 1)
    }

    func test_calibratedStabilizedRangeIsNonPositiveWithZeroExact() throws {
        let graph = try attentionGraph()
        var random = TestRandom(seed: 5)
        let samples = (0..<3).map { _ in rowOffsetSample(&random) }
        let stabilized = try plan(graph, recipe(.stabilized), samples).activations["scores"]!
        XCTAssertEqual(stabilized.zeroPoint, 255)
        XCTAssertEqual(stabilized.qmax, 255)
        XCTAssertEqual(stabilized.qmin, 0)
        let lower = stabilized.scale * Float(stabilized.qmin - stabilized.zeroPoint)
        XCTAssertLessThan(lower, -3, "the within-row spread")
        XCTAssertGreaterThan(lower, -40, "the row offsets (up to ±120) must be gone")
        let plain = try plan(graph, recipe(.plain), samples).activations["scores"]!
        XCTAssertGreaterThan(plain.scale, 2.5 * stabilized.scale)
        // Symmetric activations keep the stabilized tensor at [lower, 0] on all 256 codes.
        var symmetric = recipe(.stabilized)
        symmetric.symmetricActivations = true
        XCTAssertEqual(try plan(graph, symmetric, samples).activations["scores"]!.zeroPoint, 255)
        let clipped = try plan(graph, recipe(.stabilized, clip: 2), samples).activations["scores"]!
        XCTAssertEqual(clipped.scale * 255, 2, accuracy: 1e-5)
    }

    func test_onlyLogitsOfIntegerMatmulsReadBySoftmaxAloneAreStabilized() throws {
        let graph = try attentionGraph()
        XCTAssertEqual(SoftmaxStabilization.stabilizedValues(in: graph, recipe: recipe(.stabilized)), [graph.value(named: "scores")!.index])
        XCTAssertTrue(SoftmaxStabilization.stabilizedValues(in: graph, recipe: recipe(.plain)).isEmpty)
        var kept = recipe(.stabilized)
        kept.keepFloat = ["scores"]
        XCTAssertTrue(SoftmaxStabilization.stabilizedValues(in: graph, recipe: kept).isEmpty)
        // Logits that are also an output (or read elsewhere) keep their values.
        let g = GraphBuilder()
        let q = try g.input("q", shape: [4, 8]), k = try g.input("k", shape: [6, 8])
        let s = try g.node(.matmul(transposeB: true), [q, k], name: "s")
        g.markOutput(try g.node(.softmax, [s], name: "p"))
        g.markOutput(s)
        XCTAssertTrue(SoftmaxStabilization.stabilizedValues(in: try g.build(), recipe: recipe(.stabilized)).isEmpty)
    }

    /// The executor's stabilized codes against the diagnosis' model of them (fake-quantized inputs,
    /// float product, row max subtracted, fake-quantized output), and the diagnosis' own figures.
    func test_diagnosisModelsTheExecutorsStabilizedLogits() throws {
        var fixture = AttentionFixture()
        fixture.queries = 2 * Int8MatMul.blockRows + 5
        let graph = try fixture.attentionGraph(alpha: 0.7)
        var random = TestRandom(seed: 17)
        let calibration = (0..<4).map { _ in fixture.rowOffsetSample(&random) }
        let test = fixture.rowOffsetSample(&random)
        for requantization in [QuantizationRecipe.Requantization.float, .fixedPoint] {
            var r = recipe(.stabilized)
            r.requantization = requantization
            let plan = try fixture.plan(graph, r, calibration)
            let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
            let scoresID = graph.value(named: "scores")!
            var seen: [Float] = []
            executor.valueObserver = { id, values in if id == scoresID { seen = Array(values) } }
            _ = try executor.run(test)
            let sq = plan.activations["scores"]!
            let model = modelStabilizedCodes(test, plan: plan, alpha: 0.7, queries: fixture.queries)
            let executed = seen.map { Int32(($0 / sq.scale).rounded()) + sq.zeroPoint }
            let differences = zip(model, executed).map { abs($0 - $1) }
            XCTAssertEqual(executed.count, model.count)
            XCTAssertLessThanOrEqual(differences.max() ?? 99, 1, "\(requantization)")
            XCTAssertGreaterThan(Double(differences.filter { $0 == 0 }.count) / Double(differences.count), 0.97, "\(requantization)")
            XCTAssertTrue(executed.allSatisfy { $0 <= 255 } && seen.allSatisfy { $0 <= 0 })

            let reports = try QuantizationDiagnosis.compare(reference: graph, quantized: executor, inputs: test, threads: 2)
            let scores = try XCTUnwrap(reports.first { $0.name == "scores" })
            // Against the stabilized reference the logits are close; the first op's isolated model is its accumulated error.
            XCTAssertGreaterThan(scores.accumulated.sqnr, 30, "\(requantization)")
            XCTAssertEqual(scores.isolated.sqnr, scores.accumulated.sqnr, accuracy: 0.5, "\(requantization)")
        }
    }

    /// With softmax_clip the logits' row is measured on [-clip, 0]: an outlier key's row pushes the
    /// others below the clip, where they weigh nothing, and must not read as damage.
    func test_diagnosisMeasuresClippedLogitsWithinTheClip() throws {
        let graph = try attentionGraph()
        var random = TestRandom(seed: 43)
        let calibration = (0..<4).map { _ in outlierSample(&random) }
        let test = outlierSample(&random)
        let executor = try Int8Executor(graph: graph, plan: try plan(graph, recipe(.stabilized, clip: 15), calibration), threads: 2)
        let reports = try QuantizationDiagnosis.compare(reference: graph, quantized: executor, inputs: test, threads: 2)
        let scores = try XCTUnwrap(reports.first { $0.name == "scores" })
        // Unclipped, the logits 100+ below their row's outlier would dominate |x - y| (errors of ~100).
        XCTAssertGreaterThan(scores.accumulated.sqnr, 25)
        XCTAssertLessThan(scores.accumulated.maxError, 1)
    }

    /// Reference codes: dequantized q and k codes, double-precision product, row max subtracted, quantized.
    func modelStabilizedCodes(_ inputs: [String: Tensor], plan: QuantizationPlan, alpha: Double, queries: Int) -> [Int32] {
        func fake(_ name: String) -> [Double] {
            let p = plan.activations[name]!
            return inputs[name]!.floats().map { x in
                let code = min(max(Int32((x / p.scale).rounded(.toNearestOrEven)) + p.zeroPoint, p.qmin), p.qmax)
                return Double(p.scale) * Double(code - p.zeroPoint)
            }
        }
        let q = fake("q"), k = fake("k"), sq = plan.activations["scores"]!
        var codes: [Int32] = []
        for h in 0..<F.heads {
            for i in 0..<queries {
                let row = (0..<F.keys).map { j in
                    alpha * (0..<F.depth).reduce(0.0) { $0 + q[(h * queries + i) * F.depth + $1] * k[(h * F.keys + j) * F.depth + $1] }
                }
                let top = row.max() ?? 0
                codes += row.map { min(max(Int32(((($0 - top) / Double(sq.scale))).rounded(.toNearestOrEven)) + sq.zeroPoint, 0), 255) }
            }
        }
        return codes
    }

    /// `compare --exclude` and `validate` keep single ops in float on the calibrated plan: logits
    /// calibrated stabilized but now produced in float are stabilized as the integer softmax reads them.
    func test_stabilizedLogitsKeptInFloatAfterCalibrationStillFeedTheIntegerSoftmax() throws {
        let graph = try attentionGraph()
        var random = TestRandom(seed: 31)
        let calibration = (0..<4).map { _ in rowOffsetSample(&random) }
        let test = rowOffsetSample(&random)
        var plan = try plan(graph, recipe(.stabilized), calibration)
        plan.recipe.keepFloat = ["scores"]
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        XCTAssertTrue(executor.stabilizedValues.isEmpty)
        XCTAssertEqual(executor.executions[1], .integer)
        let exact = try FP32Executor(graph: graph, threads: 2).run(test)["context"]!
        let quantized = try executor.run(test)["context"]!
        XCTAssertGreaterThan(exact.withFloats { e in quantized.withFloats { QuantMetrics.sqnr(e, $0) } }, 25)
    }

    func test_everyKernelPathGivesTheSameStabilizedOutput() throws {
        var fixture = AttentionFixture()
        fixture.queries = Int8MatMul.blockRows + 13
        let graph = try fixture.attentionGraph(alpha: 0.5)
        var random = TestRandom(seed: 8)
        let calibration = (0..<3).map { _ in fixture.rowOffsetSample(&random) }
        let plan = try fixture.plan(graph, recipe(.stabilized), calibration)
        let x = fixture.rowOffsetSample(&random)
        var outputs: [String: [Float]] = [:]
        for name in KernelISA.available {
            try KernelISA.applyEnvironment(["ONBOARD_ISA": name])
            let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
            try KernelISA.applyEnvironment(["ONBOARD_ISA": name])
            outputs[name] = try executor.run(x)["context"]!.floats()
        }
        XCTAssertGreaterThanOrEqual(outputs.count, 2)
        for (name, values) in outputs { XCTAssertEqual(values, outputs["scalar"], name) }
    }

    func test_aPlanCalibratedPlainIsRefusedForStabilizedLogits() throws {
        let graph = try attentionGraph()
        var random = TestRandom(seed: 2)
        let samples = (0..<2).map { _ in rowOffsetSample(&random) }
        var plan = try plan(graph, recipe(.plain), samples)
        plan.recipe.softmaxInput = .stabilized
        XCTAssertThrowsError(try Int8Executor(graph: graph, plan: plan, planSource: "q.json")) { error in
            XCTAssertTrue("\(error)".hasPrefix("q.json: scores: softmax_input \"stabilized\" needs"), "\(error)")
        }
    }
}
