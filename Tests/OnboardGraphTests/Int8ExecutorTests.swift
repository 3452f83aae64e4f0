import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// The INT8 executor on a small transformer-like graph with every kind of op it treats specially.
final class Int8ExecutorTests: XCTestCase {
    override func tearDown() { KernelISA.reset() }

    /// x [2, 12, 24] -> linear -> gelu -> linear -> + x -> layernorm -> q·kᵀ (alpha) -> softmax -> ·v -> permute.
    /// With `keepAll`, every tensor is also an output, so its codes survive the run for inspection.
    func sampleGraph(seed: UInt64 = 1, keepAll: Bool = false) throws -> Graph {
        var random = TestRandom(seed: seed)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [2, 12, 24])
        let h = try g.node(.linear, [x, try g.constant("fc1.weight", random.gaussian([48, 24], scale: 0.3)),
                                     try g.constant("fc1.bias", random.gaussian([48], scale: 0.1))], name: "fc1")
        let a = try g.node(.gelu(approximate: false), [h], name: "act")
        let o = try g.node(.linear, [a, try g.constant("fc2.weight", random.gaussian([24, 48], scale: 0.2))], name: "fc2")
        let r = try g.node(.add, [x, o], name: "residual")
        let n = try g.node(.layerNorm(epsilon: 1e-5), [r, try g.constant("norm.weight", random.gaussian([24], scale: 0.2)),
                                                        try g.constant("norm.bias", random.gaussian([24], scale: 0.1))], name: "norm")
        let s = try g.node(.matmul(transposeB: true, alpha: 0.2), [n, r], name: "scores")
        let p = try g.node(.softmax, [s], name: "probs")
        let c = try g.node(.matmul(transposeB: false), [p, n], name: "context")
        g.markOutput(try g.node(.permute([1, 0, 2]), [c], name: "out"))
        if keepAll { [x, h, a, o, r, n, s, p, c].forEach(g.markOutput) }
        return try g.build()
    }

    func inputs(_ count: Int, seed: UInt64 = 5) -> [[String: Tensor]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in ["x": random.gaussian([2, 12, 24])] }
    }

    func plan(_ graph: Graph, recipe: QuantizationRecipe = QuantizationRecipe()) throws -> QuantizationPlan {
        let samples = inputs(6)
        return try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
    }

    func codes(_ executor: Int8Executor, _ name: String) -> [UInt8] {
        let id = executor.graph.value(named: name)!
        return Array(UnsafeBufferPointer(start: executor.codes(id), count: executor.graph.info(id).count))
    }

    func test_integerOpsAndFloatIslandsAreWhereExpected() throws {
        let graph = try sampleGraph()
        let executor = try Int8Executor(graph: graph, plan: try plan(graph), threads: 2)
        let expected: [String: Int8Executor.Execution] = [
            "fc1": .integer, "act": .floatIsland, "fc2": .integer, "residual": .floatIsland, "norm": .floatIsland,
            "scores": .integer, "probs": .floatIsland, "context": .integer, "out": .movement,
        ]
        for (node, execution) in zip(graph.nodes, executor.executions) { XCTAssertEqual(execution, expected[node.name], node.name) }
        // "act" is an island too, but it runs as a code-to-code table: no float arithmetic.
        XCTAssertEqual(executor.floatOps, ["residual", "norm", "probs"])
        XCTAssertEqual(executor.integerOps, ["fc1", "act", "fc2", "scores", "context"])
    }

    func test_int8TracksFP32() throws {
        let graph = try sampleGraph()
        let executor = try Int8Executor(graph: graph, plan: try plan(graph), threads: 2)
        let x = inputs(1, seed: 77)[0]
        let exact = try FP32Executor(graph: graph, threads: 2).run(x)["out"]!
        let quantized = try executor.run(x)["out"]!
        let sqnr = exact.withFloats { e in quantized.withFloats { QuantMetrics.sqnr(e, $0) } }
        XCTAssertGreaterThan(sqnr, 20, "SQNR \(sqnr) dB")
        XCTAssertLessThan(sqnr, 60, "suspiciously exact: is anything quantized?")
    }

    func test_integerProductsMatchTheFakeQuantizedFloatProduct() throws {
        // fc1 in integers vs dequantize -> float linear with int8 weights -> quantize: at most one code apart.
        let graph = try sampleGraph(keepAll: true)
        let plan = try plan(graph)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        let x = inputs(1, seed: 9)[0]
        _ = try executor.run(x)
        let xq = plan.activations["x"]!, hq = plan.activations["fc1"]!
        let weight = QuantizedWeight(quantizing: graph.constants[graph.value(named: "fc1.weight")!]!, perChannel: false)
        let w = weight.dequantized(), bias = graph.constants[graph.value(named: "fc1.bias")!]!
        let xCodes = codes(executor, "x"), hCodes = codes(executor, "fc1")
        var worst: Int32 = 0
        for row in 0..<24 {
            for j in 0..<48 {
                var sum = Double(bias.element(at: j))
                for k in 0..<24 { sum += Double(xq.scale) * Double(Int32(xCodes[row * 24 + k]) - xq.zeroPoint) * Double(w.element(at: j * 24 + k)) }
                let reference = min(max(Int32((sum / Double(hq.scale)).rounded(.toNearestOrEven)) + hq.zeroPoint, 0), 255)
                worst = max(worst, abs(reference - Int32(hCodes[row * 48 + j])))
            }
        }
        XCTAssertLessThanOrEqual(worst, 1)
    }

    func test_mseWeightClipNarrowsTheScaleOfAnOutlierWeight() throws {
        var random = TestRandom(seed: 8)
        var values = random.floats(64 * 32, scale: 0.5)
        values[5] = 12
        let weight = try Tensor(shape: [64, 32], values: values)
        let plain = QuantizedWeight(quantizing: weight, perChannel: false)
        let clipped = QuantizedWeight(quantizing: weight, perChannel: false, clip: .mse)
        XCTAssertEqual(plain.scales[0], 12 / 127, accuracy: 1e-6)
        XCTAssertLessThan(clipped.scales[0], plain.scales[0])
        func error(_ q: QuantizedWeight) -> Float {
            let d = q.dequantized()
            return (0..<values.count).reduce(0) { $0 + (values[$1] - d.element(at: $1)) * (values[$1] - d.element(at: $1)) }
        }
        XCTAssertLessThan(error(clipped), error(plain))
    }

    func test_codePathsEqualThePlainFloatIslands() throws {
        let graph = try sampleGraph(keepAll: true)
        let plan = try plan(graph)
        let fast = try Int8Executor(graph: graph, plan: plan, threads: 2)
        let plain = try Int8Executor(graph: graph, plan: plan, threads: 2)
        plain.codePathsEnabled = false
        let x = inputs(1, seed: 13)[0]
        XCTAssertEqual(try fast.run(x)["out"]!.floats(), try plain.run(x)["out"]!.floats())
        for name in ["act", "residual", "norm", "probs"] { XCTAssertEqual(codes(fast, name), codes(plain, name), name) }
    }

    func test_everyKernelPathGivesTheSameGraphOutput() throws {
        let graph = try sampleGraph()
        let plan = try plan(graph)
        let x = inputs(1, seed: 21)[0]
        var outputs: [String: [Float]] = [:]
        for name in KernelISA.available {
            try KernelISA.applyEnvironment(["ONBOARD_ISA": name])
            // The executor applies the environment itself; force again after it.
            let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
            try KernelISA.applyEnvironment(["ONBOARD_ISA": name])
            outputs[name] = try executor.run(x)["out"]!.floats()
        }
        XCTAssertGreaterThanOrEqual(outputs.count, 2)
        // The integer kernels give the same codes on every path by construction; the float islands
        // (act, norm, probs) run FP32 kernels, capped too, which round per path (fused multiply-adds):
        // their codes agree where no value sits on a rounding boundary, as on this graph.
        for (name, values) in outputs { XCTAssertEqual(values, outputs["scalar"], name) }
    }

    func test_fixedPointRequantizationStaysWithinOneCode() throws {
        let graph = try sampleGraph(keepAll: true)
        var recipe = QuantizationRecipe()
        let floatPlan = try plan(graph, recipe: recipe)
        recipe.requantization = .fixedPoint
        var fixedPlan = floatPlan
        fixedPlan.recipe = recipe
        let a = try Int8Executor(graph: graph, plan: floatPlan, threads: 2)
        let b = try Int8Executor(graph: graph, plan: fixedPlan, threads: 2)
        let x = inputs(1, seed: 3)[0]
        _ = try a.run(x)
        _ = try b.run(x)
        for name in ["fc1", "residual"] {
            let fromFloat = codes(a, name), fromFixed = codes(b, name)
            let differences = zip(fromFloat, fromFixed).map { abs(Int($0) - Int($1)) }
            XCTAssertLessThanOrEqual(differences.max() ?? 99, 1, name)
            XCTAssertGreaterThan(fromFloat.count, 0)
        }
        XCTAssertEqual(a.floatOps, ["residual", "norm", "probs"])
        XCTAssertEqual(b.floatOps, ["norm", "probs"], "the residual add runs in integers with fixed-point requantization")
    }

    func test_keptFloatOpsStayFloat() throws {
        let graph = try sampleGraph()
        var recipe = QuantizationRecipe()
        recipe.keepFloat = ["fc2"]
        recipe.keepFloatKinds = ["softmax"]
        let executor = try Int8Executor(graph: graph, plan: try plan(graph, recipe: recipe), threads: 2)
        XCTAssertEqual(executor.executions[graph.nodes.firstIndex { $0.name == "fc2" }!], .keptFloat)
        XCTAssertTrue(executor.floatOps.contains("probs") && executor.floatOps.contains("fc2"))
        let x = inputs(1)[0]
        let exact = try FP32Executor(graph: graph, threads: 1).run(x)["out"]!
        let out = try executor.run(x)["out"]!
        XCTAssertGreaterThan(exact.withFloats { e in out.withFloats { QuantMetrics.sqnr(e, $0) } }, 20)
    }

    func test_badPlansAndRecipesAreNamed() throws {
        let graph = try sampleGraph()
        var plan = try plan(graph)
        var recipe = plan.recipe
        recipe.keepFloat = ["no_such_op"]
        XCTAssertThrowsError(try recipe.validate(against: graph, source: "r.json")) {
            XCTAssertEqual("\($0)", "r.json: keep_float: the model has no op named 'no_such_op'")
        }
        plan.activations.removeValue(forKey: "norm")
        XCTAssertThrowsError(try Int8Executor(graph: graph, plan: plan, planSource: "q/quant.json")) {
            XCTAssertEqual("\($0)", "q/quant.json: norm: the plan has no parameters for this tensor of the model")
        }
        plan.activations["norm"] = ActivationQuant(scale: 0, zeroPoint: 3)
        XCTAssertThrowsError(try Int8Executor(graph: graph, plan: plan)) { XCTAssertTrue("\($0)".contains("invalid parameters")) }
        plan.activations["norm"] = ActivationQuant(scale: 0.1, zeroPoint: 3)
        plan.activations["ghost"] = ActivationQuant(scale: 0.1, zeroPoint: 3)
        XCTAssertThrowsError(try Int8Executor(graph: graph, plan: plan)) { XCTAssertTrue("\($0)".contains("ghost: the model has no tensor")) }
    }

    func test_calibrationRejectsEmptySetsAndNonFiniteData() throws {
        let graph = try sampleGraph()
        XCTAssertThrowsError(try Calibrator.calibrate(graph: graph, recipe: QuantizationRecipe(), count: 0, threads: 1) { _ in [:] }) {
            XCTAssertTrue("\($0)".contains("empty"))
        }
        let bad = inputs(1)[0]["x"]!.copied()
        bad.floatPointer[7] = .nan
        XCTAssertThrowsError(try Calibrator.calibrate(graph: graph, recipe: QuantizationRecipe(), count: 2, threads: 1) { i in
            i == 1 ? ["x": bad] : self.inputs(1)[0]
        }) { error in
            XCTAssertTrue("\(error)".contains("calibration sample 1") && "\(error)".contains("x"), "\(error)")
        }
        _ = bad
    }

    func test_unknownOrUnsupportedISAIsAnError() {
        XCTAssertThrowsError(try KernelISA.applyEnvironment(["ONBOARD_ISA": "sse9"])) { XCTAssertTrue("\($0)".contains("not one of")) }
        let missing = KernelISA.names.keys.filter { !KernelISA.available.contains($0) }
        for name in missing {
            XCTAssertThrowsError(try KernelISA.applyEnvironment(["ONBOARD_ISA": name])) { XCTAssertTrue("\($0)".contains("does not support")) }
        }
        XCTAssertNoThrow(try KernelISA.applyEnvironment(["ONBOARD_ISA": "scalar"]))
        XCTAssertEqual(KernelISA.active, "scalar")
    }
}
