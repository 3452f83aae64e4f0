import CKernels
import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Long attention rows, mostly diffuse, with one sharp row per head: the shape of PETR's
/// cross-attention (hundreds of image tokens per query), where a per-tensor probability step that
/// must hold the sharp rows' ~0.9 rounds the diffuse rows' ~1/keys to nothing.
struct LongRows {
    static let heads = 2, queries = Int8MatMul.blockRows + 7, keys = 480, depth = 16

    func graph(softmaxIsAlsoAnOutput: Bool = false) throws -> Graph {
        let g = GraphBuilder()
        let q = try g.input("q", shape: [Self.heads, Self.queries, Self.depth])
        let k = try g.input("k", shape: [Self.heads, Self.keys, Self.depth])
        let v = try g.input("v", shape: [Self.heads, Self.keys, Self.depth])
        let scores = try g.node(.matmul(transposeB: true, alpha: 0.5), [q, k], name: "scores")
        let probs = try g.node(.softmax, [scores], name: "probs")
        g.markOutput(try g.node(.matmul(transposeB: false), [probs, v], name: "context"))
        if softmaxIsAlsoAnOutput { g.markOutput(probs) }
        return try g.build()
    }

    /// Logits N(0, ~0.6) per row, except query 0 of each head, whose key 5 stands 12 above the rest.
    func sample(_ random: inout TestRandom) -> [String: Tensor] {
        let q = random.gaussian([Self.heads, Self.queries, Self.depth], scale: 0.3)
        let k = random.gaussian([Self.heads, Self.keys, Self.depth])
        q.withMutableFloats { values in
            for h in 0..<Self.heads { values[h * Self.queries * Self.depth] = 6 }
        }
        k.withMutableFloats { values in
            for h in 0..<Self.heads { values[(h * Self.keys + 5) * Self.depth] = 4 }
        }
        return ["q": q, "k": k, "v": random.gaussian([Self.heads, Self.keys, Self.depth])]
    }

    func recipe(_ output: QuantizationRecipe.SoftmaxOutput) -> QuantizationRecipe {
        var recipe = QuantizationRecipe()
        recipe.softmaxInput = .stabilized
        recipe.softmaxClip = 15
        recipe.softmaxOutput = output
        return recipe
    }

    func plan(_ graph: Graph, _ recipe: QuantizationRecipe, _ samples: [[String: Tensor]]) throws -> QuantizationPlan {
        try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
    }
}

/// Softmax with deferred normalization (`SoftmaxNormalization`): e^(x - row max) in u8 steps of
/// 1/255, divided by the row's code sum in the AV product's epilogue.
final class DeferredSoftmaxTests: XCTestCase {
    let fixture = LongRows()
    typealias F = LongRows

    override func tearDown() { KernelISA.reset() }

    private func calibrated(_ output: QuantizationRecipe.SoftmaxOutput, seed: UInt64 = 7) throws
        -> (graph: Graph, plan: QuantizationPlan, test: [String: Tensor]) {
        let graph = try fixture.graph()
        var random = TestRandom(seed: seed)
        let calibration = (0..<3).map { _ in fixture.sample(&random) }
        return (graph, try fixture.plan(graph, fixture.recipe(output), calibration), fixture.sample(&random))
    }

    private func contextSQNR(_ graph: Graph, _ plan: QuantizationPlan, _ test: [String: Tensor]) throws -> Double {
        let exact = try FP32Executor(graph: graph, threads: 2).run(test)["context"]!
        let quantized = try Int8Executor(graph: graph, plan: plan, threads: 2).run(test)["context"]!
        return exact.withFloats { e in quantized.withFloats { QuantMetrics.sqnr(e, $0) } }
    }

    func test_deferredNormalizationKeepsTheDiffuseRowsThatProbabilityCodesLose() throws {
        let normalized = try calibrated(.normalized)
        let deferred = try calibrated(.deferred)
        let probabilityStep = try XCTUnwrap(normalized.plan.activations["probs"]).scale
        XCTAssertGreaterThan(probabilityStep * 480, 1.5, "the sharp rows set a step above a diffuse row's 1/480")
        let before = try contextSQNR(normalized.graph, normalized.plan, normalized.test)
        let after = try contextSQNR(deferred.graph, deferred.plan, deferred.test)
        print(String(format: "long rows: context SQNR %.1f dB with probability codes, %.1f dB deferred", before, after))
        // Measured: 14.7 and 25.6 dB.
        XCTAssertLessThan(before, 17)
        XCTAssertGreaterThan(after, before + 8)
        XCTAssertGreaterThan(after, 23)
    }

    /// The executor's context codes against a double-precision model of the scheme: the observed
    /// stabilized logit codes, e_j = round(255 e^(logit)), Σ e_j v_j / Σ e_j on fake-quantized v, requantized.
    func test_executorMatchesAModelOfTheDeferredProduct() throws {
        let (graph, plan, test) = try calibrated(.deferred)
        XCTAssertEqual(plan.activations["probs"], SoftmaxNormalization.parameters)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        XCTAssertEqual(executor.deferredValues, [graph.value(named: "probs")!])
        let scoresID = graph.value(named: "scores")!, probsID = graph.value(named: "probs")!
        var logits: [Float] = [], probabilities: [Float] = []
        executor.valueObserver = { id, values in
            if id == scoresID { logits = Array(values) }
            if id == probsID { probabilities = Array(values) }
        }
        let context = try executor.run(test)["context"]!.floats()
        let vq = try XCTUnwrap(plan.activations["v"]), cq = try XCTUnwrap(plan.activations["context"])
        let v = test["v"]!.floats().map { x in
            Double(vq.scale) * Double(min(max(Int32((x / vq.scale).rounded(.toNearestOrEven)) + vq.zeroPoint, vq.qmin), vq.qmax) - vq.zeroPoint)
        }
        var differences: [Int32] = []
        for h in 0..<F.heads {
            for i in 0..<F.queries {
                let row = (h * F.queries + i) * F.keys
                let e = (0..<F.keys).map { (255 * exp(Double(logits[row + $0]))).rounded() }
                let sum = e.reduce(0, +)
                for (j, p) in e.enumerated() {
                    XCTAssertEqual(Double(probabilities[row + j]), p / sum, accuracy: 1e-6, "observed as probabilities")
                }
                for d in 0..<F.depth {
                    let value = (0..<F.keys).reduce(0.0) { $0 + e[$1] * v[(h * F.keys + $1) * F.depth + d] } / sum
                    let model = min(max(Int32((value / Double(cq.scale)).rounded()) + cq.zeroPoint, cq.qmin), cq.qmax)
                    let executed = Int32((context[(h * F.queries + i) * F.depth + d] / cq.scale).rounded()) + cq.zeroPoint
                    differences.append(abs(model - executed))
                }
            }
        }
        XCTAssertLessThanOrEqual(differences.max() ?? 99, 1)
        XCTAssertGreaterThan(Double(differences.filter { $0 == 0 }.count) / Double(differences.count), 0.97)
    }

    func test_everyKernelPathGivesTheSameDeferredOutput() throws {
        let (graph, plan, test) = try calibrated(.deferred, seed: 11)
        var outputs: [String: [Float]] = [:]
        for name in KernelISA.available {
            try KernelISA.applyEnvironment(["ONBOARD_ISA": name])
            let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
            outputs[name] = try executor.run(test)["context"]!.floats()
        }
        XCTAssertGreaterThanOrEqual(outputs.count, 2)
        for (name, values) in outputs { XCTAssertEqual(values, outputs["scalar"], name) }
    }

    func test_onlySoftmaxesReadAloneByIntegerMatmulsAreDeferred() throws {
        let graph = try fixture.graph()
        let probs = graph.value(named: "probs")!.index
        XCTAssertEqual(SoftmaxNormalization.deferredValues(in: graph, recipe: fixture.recipe(.deferred)), [probs])
        XCTAssertTrue(SoftmaxNormalization.deferredValues(in: graph, recipe: fixture.recipe(.normalized)).isEmpty)
        var keptContext = fixture.recipe(.deferred)
        keptContext.keepFloat = ["context"]
        XCTAssertTrue(SoftmaxNormalization.deferredValues(in: graph, recipe: keptContext).isEmpty)
        var keptSoftmax = fixture.recipe(.deferred)
        keptSoftmax.keepFloat = ["probs"]
        XCTAssertTrue(SoftmaxNormalization.deferredValues(in: graph, recipe: keptSoftmax).isEmpty)
        let alsoOutput = try fixture.graph(softmaxIsAlsoAnOutput: true)
        XCTAssertTrue(SoftmaxNormalization.deferredValues(in: alsoOutput, recipe: fixture.recipe(.deferred)).isEmpty)
    }

    func test_diagnosisComparesDeferredCodesAsProbabilities() throws {
        let (graph, plan, test) = try calibrated(.deferred, seed: 3)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        let reports = try QuantizationDiagnosis.compare(reference: graph, quantized: executor, inputs: test, threads: 2)
        let probs = try XCTUnwrap(reports.first { $0.name == "probs" })
        let context = try XCTUnwrap(reports.first { $0.name == "context" })
        // Read as raw e^(x - max) codes the rows would sum to ~100 against 1: far below 0 dB.
        XCTAssertGreaterThan(probs.accumulated.sqnr, 25)
        XCTAssertLessThan(probs.accumulated.maxError, 0.05)
        XCTAssertGreaterThan(context.accumulated.sqnr, 24)
        XCTAssertEqual(context.isolated.sqnr, context.accumulated.sqnr, accuracy: 3, "the isolated model follows the executor")
    }

    func test_aPlanWithCalibratedProbabilityParametersIsRefused() throws {
        var (graph, plan, _) = try calibrated(.normalized)
        plan.recipe.softmaxOutput = .deferred
        XCTAssertThrowsError(try Int8Executor(graph: graph, plan: plan, planSource: "q.json")) { error in
            XCTAssertTrue("\(error)".hasPrefix("q.json: probs: softmax_output \"deferred\" needs"), "\(error)")
        }
    }

    func test_recipeNeedsTheIntegerSoftmaxForDeferredOutput() throws {
        let path = TestPaths.temporaryDirectory("deferred-recipe") + "/recipe.json"
        try #"{"softmax": "float", "softmax_output": "deferred"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try QuantizationRecipe.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("softmax_output"), "\(error)")
        }
        try #"{"softmax_input": "stabilized", "softmax_output": "deferred"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try QuantizationRecipe.load(path: path).softmaxOutput, .deferred)
    }

    // MARK: - kernels

    func test_expRowsLookUpTheDistanceToEachRowsMax() {
        let table = (0...255).map { UInt8(255 - $0 / 2) }  // any table: reversed[255 - d] = 255 - (255 - d) / 2
        var random = TestRandom(seed: 21)
        for width in [1, 7, 64, 480] {
            let rows = 5
            var x = (0..<(rows * width)).map { _ in UInt8(random.int(in: 0...200)) }
            for j in 0..<width { x[width + j] = 255 - UInt8(j % 3) }  // a row already topped at 255
            var y = [UInt8](repeating: 0, count: x.count)
            onboard_q8_softmax_exp_rows(x, &y, rows, width, table)
            for r in 0..<rows {
                let top = Int(x[(r * width)..<((r + 1) * width)].max()!)
                for j in 0..<width {
                    XCTAssertEqual(y[r * width + j], table[255 - (top - Int(x[r * width + j]))], "width \(width) row \(r)")
                }
            }
        }
    }

    func test_divideRowsRoundsTheExactQuotient() {
        var random = TestRandom(seed: 9)
        let rows = 6, width = 40
        let divisors: [Int32] = [255, 256, 1000, 122_400, 7, 0]
        let acc = (0..<(rows * width)).map { i in Int32(random.int(in: -255...255)) * divisors[i / width] / 3 + Int32(random.int(in: -9...9)) }
        for scale in [0.0123, 0.9, 3.7, -0.25] {
            let division = RowDivision(scale: scale, output: ActivationQuant(scale: 1, zeroPoint: 128))
            var y = [UInt8](repeating: 0, count: acc.count)
            divisors.withUnsafeBufferPointer { d in
                acc.withUnsafeBufferPointer { a in division.run(a.baseAddress!, rows: 0..<rows, width: width, rowSums: d.baseAddress!, into: &y) }
            }
            for (i, code) in y.enumerated() {
                let divisor = Double(divisors[i / width])
                let exact = divisor > 0 ? 128 + Double(acc[i]) * scale / divisor : 128
                let expected = min(max(exact.rounded(.toNearestOrAwayFromZero), 0), 255)
                if abs(exact - exact.rounded(.down) - 0.5) > 1e-6 { XCTAssertEqual(Double(code), expected, "\(i) scale \(scale)") }
            }
        }
    }
}
