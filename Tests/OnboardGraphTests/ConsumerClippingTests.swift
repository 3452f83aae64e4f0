import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Ranges read only by saturating activations are cut where those stop changing.
final class ConsumerClippingTests: XCTestCase {
    /// x [64, 16] -> linear (bias -1.5, so most pre-activations are negative) -> `activation`
    /// -> linear -> `out`. With `extraReader`, the pre-activation is also added to the activation.
    private func mlp(_ activation: Op, extraReader: Bool = false) throws -> Graph {
        var random = TestRandom(seed: 7)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [64, 16])
        let w1 = try g.constant("w1", random.gaussian([32, 16], scale: 0.5))
        let b1 = try g.constant("b1", Tensor(shape: [32], values: [Float](repeating: -1.5, count: 32)))
        let hidden = try g.node(.linear, [x, w1, b1], name: "hidden")
        var act = try g.node(activation, [hidden], name: "act")
        if extraReader { act = try g.node(.add, [act, hidden], name: "mixed") }
        let w2 = try g.constant("w2", random.gaussian([8, 32], scale: 0.3))
        g.markOutput(try g.node(.linear, [act, w2], name: "out"))
        return try g.build()
    }

    private func samples(_ count: Int, seed: UInt64) -> [[String: Tensor]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in ["x": random.gaussian([64, 16])] }
    }

    private func plan(_ graph: Graph, _ recipe: QuantizationRecipe = QuantizationRecipe()) throws -> QuantizationPlan {
        let calibration = samples(4, seed: 1)
        return try Calibrator.calibrate(graph: graph, recipe: recipe, count: calibration.count, threads: 2) { calibration[$0] }
    }

    /// SQNR (dB) of the activation alone under the plan (exact inputs, quantized as the plan says).
    private func activationSQNR(_ graph: Graph, _ plan: QuantizationPlan) throws -> Double {
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        let reports = try QuantizationDiagnosis.compare(reference: graph, quantized: executor, inputs: samples(1, seed: 99)[0], threads: 2)
        return try XCTUnwrap(reports.first { $0.name == "act" }).isolated.sqnr
    }

    func test_reluInputRangeStartsAtZeroAndTheReluTableIsTheIdentity() throws {
        let graph = try mlp(.relu)
        let plan = try plan(graph)
        let hidden = try XCTUnwrap(plan.activations["hidden"]), act = try XCTUnwrap(plan.activations["act"])
        XCTAssertEqual(hidden.zeroPoint, 0)
        XCTAssertEqual(hidden, act)
        let node = try XCTUnwrap(graph.nodes.first { $0.op == .relu })
        XCTAssertEqual(try QuantizedElementwise.table(node, input: hidden, output: act), (0...255).map(UInt8.init))
    }

    func test_cutRangeGivesTheReluOutputFinerSteps() throws {
        let graph = try mlp(.relu)
        let clipped = try plan(graph)
        // The plan as it was before the cut: the pre-activation over its whole observed range.
        var whole = clipped
        var lower = Float.infinity, upper = -Float.infinity
        let executor = try FP32Executor(graph: graph, threads: 2)
        executor.valueObserver = { id, values in
            guard graph.info(id).name == "hidden" else { return }
            lower = min(lower, values.min() ?? 0)
            upper = max(upper, values.max() ?? 0)
        }
        for sample in samples(4, seed: 1) { _ = try executor.run(sample) }
        XCTAssertLessThan(lower, -2 * upper / 3, "the fixture must spend most of the range on negatives")
        whole.activations["hidden"] = ActivationQuant(QuantParams.affine(min: lower, max: upper, bits: 8, symmetric: false))
        let gain = try activationSQNR(graph, clipped) - activationSQNR(graph, whole)
        XCTAssertGreaterThan(gain, 4, "cutting the negative range should buy at least 4 dB on the ReLU output")
    }

    func test_geluInputRangeStopsWhereTheOutputIsWithinHalfAStepOfZero() throws {
        let graph = try mlp(.gelu(approximate: false))
        let plan = try plan(graph)
        let hidden = try XCTUnwrap(plan.activations["hidden"]), act = try XCTUnwrap(plan.activations["act"])
        let gelu = { (x: Double) in x * 0.5 * (1 + erf(x / 2.squareRoot())) }
        let lower = Double(hidden.representableRange.min)
        XCTAssertGreaterThan(lower, -3.2)
        XCTAssertLessThan(lower, -2)
        // At the cut the output rounds to zero; one input step above it, it no longer does.
        let halfStep = Double(act.scale) / 2
        XCTAssertLessThan(abs(gelu(lower)), halfStep * 1.05)
        XCTAssertGreaterThan(abs(gelu(lower + 2 * Double(hidden.scale))), halfStep)
        // The cut changes no output code of the GELU table on the observed data.
        let node = try XCTUnwrap(graph.nodes.first { $0.op == .gelu(approximate: false) })
        let table = try QuantizedElementwise.table(node, input: hidden, output: act)
        XCTAssertEqual(table[0], UInt8(act.zeroPoint))
    }

    func test_diagnosisComparesACutRangeWithTheClampedReference() throws {
        let graph = try mlp(.relu)
        let executor = try Int8Executor(graph: graph, plan: try plan(graph), threads: 2)
        let reports = try QuantizationDiagnosis.compare(reference: graph, quantized: executor, inputs: samples(1, seed: 99)[0], threads: 2)
        let hidden = try XCTUnwrap(reports.first { $0.name == "hidden" })
        // Against the unclamped pre-activation (mostly negative) the codes would score below 6 dB.
        XCTAssertGreaterThan(hidden.accumulated.sqnr, 25)
        XCTAssertGreaterThan(hidden.isolated.sqnr, 25)
    }

    func test_valuesWithOtherReadersGraphOutputsAndSymmetricRecipesAreNotCut() throws {
        XCTAssertTrue(ConsumerClipping.clippedValues(in: try mlp(.relu, extraReader: true), recipe: QuantizationRecipe()).isEmpty)
        var symmetric = QuantizationRecipe()
        symmetric.symmetricActivations = true
        XCTAssertTrue(ConsumerClipping.clippedValues(in: try mlp(.relu), recipe: symmetric).isEmpty)
        var off = QuantizationRecipe()
        off.consumerClipping = false
        XCTAssertTrue(ConsumerClipping.clippedValues(in: try mlp(.relu), recipe: off).isEmpty)
        var kept = QuantizationRecipe()
        kept.keepFloat = ["act"]
        XCTAssertTrue(ConsumerClipping.clippedValues(in: try mlp(.relu), recipe: kept).isEmpty)
        let graph = try mlp(.relu)
        XCTAssertEqual(ConsumerClipping.clippedValues(in: graph, recipe: QuantizationRecipe()), [graph.value(named: "hidden")!.index])

        let g = GraphBuilder()
        let x = try g.input("x", shape: [4])
        let y = try g.node(.relu, [x], name: "y")
        g.markOutput(y)
        g.markOutput(try g.node(.relu, [y], name: "z"))
        XCTAssertTrue(ConsumerClipping.clippedValues(in: try g.build(), recipe: QuantizationRecipe()).isEmpty)
    }
}
