import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// `Linear(x + C)` folded into `Linear(x)` with a bias per output element (`"fold_constant_addends"`).
final class ConstantAddendFoldingTests: XCTestCase {
    static let batch = 2, tokens = 6, width = 32, heads = 2

    override func tearDown() { KernelISA.reset() }

    /// A decoder-like block: `query = x + position` (a constant four times x's scale) read by the
    /// `q` and `k` Linears, whose heads are split by a reshape and a permute (`q.heads` is an output);
    /// `v` reads x alone. With `int8Weights` the weights are stored as per-tensor int8 codes, as
    /// a saved quantized bundle holds them.
    func graph(_ random: inout TestRandom, int8Weights: Bool = false) throws -> Graph {
        let g = GraphBuilder()
        let shape = [Self.batch, Self.tokens, Self.width]
        let x = try g.input("x", shape: shape)
        let position = try g.constant("position", random.gaussian(shape, scale: 4))
        let query = try g.node(.add, [x, position], name: "query")
        func linear(_ name: String, _ input: ValueID) throws -> ValueID {
            let float = random.gaussian([Self.width, Self.width], scale: 0.2)
            let stored = QuantizedWeight(quantizing: float, perChannel: false)
            let weight = int8Weights ? try g.constant("\(name).weight", stored.codes, scales: stored.scales)
                                     : try g.constant("\(name).weight", float)
            let bias = try g.constant("\(name).bias", random.gaussian([Self.width], scale: 0.5))
            return try g.node(.linear, [input, weight, bias], name: name)
        }
        let q = try linear("q", query)
        let split = try g.node(.reshape([Self.batch, Self.tokens, Self.heads, Self.width / Self.heads]), [q], name: "q.split")
        g.markOutput(try g.node(.permute([0, 2, 1, 3]), [split], name: "q.heads"))
        g.markOutput(try linear("k", query))
        g.markOutput(try linear("v", x))
        return try g.build()
    }

    func calibrated(fold: Bool, keepFloat: [String] = []) throws -> (graph: Graph, plan: QuantizationPlan, test: [String: Tensor]) {
        var random = TestRandom(seed: 5)
        let graph = try graph(&random)
        var recipe = QuantizationRecipe()
        recipe.requantization = .fixedPoint
        recipe.foldConstantAddends = fold
        recipe.keepFloat = keepFloat
        let shape = [Self.batch, Self.tokens, Self.width]
        let samples = (0..<4).map { _ in ["x": random.gaussian(shape)] }
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
        return (graph, plan, ["x": random.gaussian(shape)])
    }

    func test_foldedLinearsReadTheAddendsOperandAndTheAddIsGone() throws {
        let (graph, plan, test) = try calibrated(fold: true)
        let folded = try ConstantAddendFolding.apply(graph, recipe: plan.recipe)
        XCTAssertFalse(folded.nodes.contains { $0.name == "query" })
        let position = try XCTUnwrap(graph.floatConstant(try XCTUnwrap(graph.value(named: "position")))).floats()
        let rows = Self.batch * Self.tokens, n = Self.width
        for name in ["q", "k"] {
            let node = try XCTUnwrap(folded.nodes.first { $0.name == name })
            XCTAssertEqual(folded.info(node.inputs[0]).name, "x")
            XCTAssertEqual(folded.info(node.inputs[2]).shape, [Self.batch, Self.tokens, Self.width])
            // C · Wqᵀ + b, Wq the per-tensor int8 weight the integer Linear runs on.
            let weight = try XCTUnwrap(graph.floatConstant(node.inputs[1]))
            let wq = QuantizedWeight(quantizing: weight, perChannel: false).dequantized().floats()
            let bias = try XCTUnwrap(graph.floatConstant(try XCTUnwrap(graph.value(named: "\(name).bias")))).floats()
            let foldedBias = try XCTUnwrap(folded.floatConstant(node.inputs[2])).floats()
            for i in 0..<rows {
                for j in 0..<n {
                    let expected = (0..<n).reduce(Double(bias[j])) { $0 + Double(position[i * n + $1]) * Double(wq[j * n + $1]) }
                    XCTAssertEqual(Double(foldedBias[i * n + j]), expected, accuracy: 1e-5, "\(name) [\(i), \(j)]")
                }
            }
        }
        // In float the folded graph differs from the graph only by the weight's rounding on C.
        let exact = try FP32Executor(graph: graph, threads: 2).run(test)
        let rewritten = try FP32Executor(graph: folded, threads: 2).run(test)
        XCTAssertEqual(exact["v"]!.floats(), rewritten["v"]!.floats())
        for name in ["q.heads", "k"] {
            let sqnr = exact[name]!.floats().withUnsafeBufferPointer { e in
                rewritten[name]!.floats().withUnsafeBufferPointer { QuantMetrics.sqnr(e, $0) }
            }
            XCTAssertGreaterThan(sqnr, 30, name)
            XCTAssertLessThan(sqnr, 80, name)
        }
        var off = plan.recipe
        off.foldConstantAddends = false
        XCTAssertEqual(try ConstantAddendFolding.apply(graph, recipe: off).nodes, graph.nodes)
    }

    func test_anAddOrLinearKeptInFloatIsNotFolded() throws {
        for kept in ["query", "q"] {
            let (graph, plan, _) = try calibrated(fold: true, keepFloat: [kept])
            let folded = try ConstantAddendFolding.apply(graph, recipe: plan.recipe)
            let q = try XCTUnwrap(folded.nodes.first { $0.name == "q" })
            let k = try XCTUnwrap(folded.nodes.first { $0.name == "k" })
            XCTAssertEqual(folded.info(q.inputs[0]).name, "query", kept)
            XCTAssertEqual(folded.info(k.inputs[0]).name, kept == "q" ? "x" : "query", kept)
            XCTAssertTrue(folded.nodes.contains { $0.name == "query" }, "a reader still needs the sum (\(kept))")
        }
    }

    /// Each folded output is its integer product on x's codes plus the folded bias, requantized
    /// once: within one output step of dequant(x) · Wq + (C · Wᵀ + b) rounded to the output grid
    /// (heads written in place included), and closer to FP32 than the run that rounds the sum.
    func test_int8RunsTheProductOnTheOperandsCodesPlusTheFoldedBias() throws {
        let (graph, plan, test) = try calibrated(fold: true)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        XCTAssertEqual(executor.inPlaceHeadSplits, ["q"])
        let outputs = try executor.run(test)
        let xq = try XCTUnwrap(plan.activations["x"])
        let x = test["x"]!.floats().map { xq.scale * (Float(min(max(Int32(($0 / xq.scale).rounded(.toNearestOrEven)) + xq.zeroPoint, 0), 255) - xq.zeroPoint)) }
        let position = try XCTUnwrap(graph.floatConstant(try XCTUnwrap(graph.value(named: "position")))).floats()
        let rows = Self.batch * Self.tokens, n = Self.width
        for name in ["q", "k"] {
            let weight = try XCTUnwrap(graph.floatConstant(try XCTUnwrap(graph.value(named: "\(name).weight"))))
            let bias = try XCTUnwrap(graph.floatConstant(try XCTUnwrap(graph.value(named: "\(name).bias")))).floats()
            let wq = QuantizedWeight(quantizing: weight, perChannel: false).dequantized().floats()
            let yq = try XCTUnwrap(plan.activations[name])
            var got = try XCTUnwrap(outputs[name == "q" ? "q.heads" : name]).floats()
            if name == "q" {  // [B, H, T, D] back to [B, T, H·D]
                let d = n / Self.heads
                got = (0..<(rows * n)).map { i in
                    let (b, t, c) = (i / (Self.tokens * n), i / n % Self.tokens, i % n)
                    return got[((b * Self.heads + c / d) * Self.tokens + t) * d + c % d]
                }
            }
            for i in 0..<rows {
                for j in 0..<n {
                    var folded = Double(bias[j]), product = 0.0
                    for t in 0..<n {
                        folded += Double(position[i * n + t]) * Double(wq[j * n + t])
                        product += Double(x[i * n + t]) * Double(wq[j * n + t])
                    }
                    let code = min(max(((product + folded) / Double(yq.scale)).rounded() + Double(yq.zeroPoint), 0), 255)
                    let expected = Float(code - Double(yq.zeroPoint)) * yq.scale
                    XCTAssertEqual(got[i * n + j], expected, accuracy: yq.scale * 1.01, "\(name) [\(i), \(j)]")
                }
            }
        }
        var unfolded = plan
        unfolded.recipe.foldConstantAddends = false
        let rounded = try Int8Executor(graph: graph, plan: unfolded, threads: 2).run(test)
        let exact = try FP32Executor(graph: graph, threads: 2).run(test)
        for name in ["q.heads", "k"] {
            let reference = exact[name]!.floats()
            let foldedSQNR = outputs[name]!.floats().withUnsafeBufferPointer { f in reference.withUnsafeBufferPointer { QuantMetrics.sqnr($0, f) } }
            let roundedSQNR = rounded[name]!.floats().withUnsafeBufferPointer { f in reference.withUnsafeBufferPointer { QuantMetrics.sqnr($0, f) } }
            XCTAssertGreaterThan(foldedSQNR, roundedSQNR + 1, name)
        }
    }

    /// A quantized bundle stores the int8 weights only; folding them gives the same biases and
    /// the same INT8 outputs as folding the float weights the plan was calibrated with.
    func test_int8WeightsFoldToTheSameBiasesAndOutputs() throws {
        let (graph, plan, test) = try calibrated(fold: true)
        var random = TestRandom(seed: 5)
        let stored = try self.graph(&random, int8Weights: true)
        let a = try ConstantAddendFolding.apply(graph, recipe: plan.recipe)
        let b = try ConstantAddendFolding.apply(stored, recipe: plan.recipe)
        for name in ["q.folded_bias", "k.folded_bias"] {
            let id = try XCTUnwrap(a.value(named: name))
            XCTAssertEqual(a.constants[id]?.floats(), b.constants[try XCTUnwrap(b.value(named: name))]?.floats(), name)
        }
        let fromFloat = try Int8Executor(graph: graph, plan: plan, threads: 2).run(test)
        let fromCodes = try Int8Executor(graph: stored, plan: plan, threads: 2).run(test)
        for name in ["q.heads", "k", "v"] { XCTAssertEqual(fromFloat[name]?.floats(), fromCodes[name]?.floats(), name) }
    }

    /// A sum of constants alone is computed exactly once by the executor: nothing to fold.
    func test_aSumOfConstantsIsNotFolded() throws {
        let g = GraphBuilder()
        var random = TestRandom(seed: 3)
        let target = try g.constant("target", Tensor(zeros: [4, 16]))
        let sum = try g.node(.add, [target, try g.constant("position", random.gaussian([4, 16]))], name: "query")
        let x = try g.input("x", shape: [4, 16])
        let q = try g.node(.linear, [sum, try g.constant("q.weight", random.gaussian([16, 16]))], name: "q")
        g.markOutput(try g.node(.add, [q, x], name: "out"))
        let graph = try g.build()
        var recipe = QuantizationRecipe()
        recipe.foldConstantAddends = true
        XCTAssertEqual(try ConstantAddendFolding.apply(graph, recipe: recipe).nodes, graph.nodes)
    }

    func test_recipeReadsAndWritesTheSwitch() throws {
        let decode = { (json: String) in try JSONDecoder().decode(QuantizationRecipe.self, from: Data(json.utf8)) }
        XCTAssertFalse(try decode("{}").foldConstantAddends)
        XCTAssertTrue(try decode(#"{"fold_constant_addends": true}"#).foldConstantAddends)
        XCTAssertThrowsError(try decode(#"{"fold_constant_addends": "yes"}"#))
        var recipe = QuantizationRecipe()
        recipe.foldConstantAddends = true
        XCTAssertEqual(try decode(String(decoding: try JSONEncoder().encode(recipe), as: UTF8.self)), recipe)
    }
}
