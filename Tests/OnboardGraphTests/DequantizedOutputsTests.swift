import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Graph outputs written in f32 from the int32 accumulators (`"graph_outputs": "float"`).
final class DequantizedOutputsTests: XCTestCase {
    static let rows = 5, width = 24, hidden = 16, code = 10

    override func tearDown() { KernelISA.reset() }

    /// x -> Linear -> ReLU -> h; outputs: `direct` = Linear(h); `stacked` = the two Linears `box.0`,
    /// `box.1` of h reshaped and concatenated (PETR's per-layer stack); `shared` = Linear(h), also
    /// read by a ReLU whose output is `shared_relu`.
    func graph(_ random: inout TestRandom) throws -> Graph {
        let g = GraphBuilder()
        func linear(_ name: String, _ x: ValueID, out: Int, in k: Int) throws -> ValueID {
            let weight = try g.constant("\(name).weight", random.gaussian([out, k], scale: 0.3))
            let bias = try g.constant("\(name).bias", random.gaussian([out], scale: 0.5))
            return try g.node(.linear, [x, weight, bias], name: name)
        }
        let x = try g.input("x", shape: [Self.rows, Self.width])
        let h = try g.node(.relu, [try linear("fc", x, out: Self.hidden, in: Self.width)], name: "h")
        g.markOutput(try linear("direct", h, out: Self.code, in: Self.hidden))
        let boxes = try (0..<2).map { i in
            try g.node(.reshape([1, Self.rows, Self.code]), [try linear("box.\(i)", h, out: Self.code, in: Self.hidden)],
                       name: "box.\(i).expanded")
        }
        g.markOutput(try g.node(.concat(axis: 0), boxes, name: "stacked"))
        let shared = try linear("shared", h, out: Self.code, in: Self.hidden)
        g.markOutput(shared)
        g.markOutput(try g.node(.relu, [shared], name: "shared_relu"))
        return try g.build()
    }

    func calibrated(_ outputs: QuantizationRecipe.GraphOutputs) throws -> (graph: Graph, plan: QuantizationPlan, test: [String: Tensor]) {
        var random = TestRandom(seed: 11)
        let graph = try graph(&random)
        var recipe = QuantizationRecipe()
        recipe.graphOutputs = outputs
        let samples = (0..<4).map { _ in ["x": random.gaussian([Self.rows, Self.width])] }
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
        return (graph, plan, ["x": random.gaussian([Self.rows, Self.width])])
    }

    func test_selectsIntegerLinearOutputsAndTheirStacksOnly() throws {
        let (graph, plan, _) = try calibrated(.float)
        let names = Set(DequantizedOutputs.values(in: graph, recipe: plan.recipe).map { graph.values[$0].name })
        XCTAssertEqual(names, ["direct", "box.0", "box.1", "box.0.expanded", "box.1.expanded", "stacked"],
                       "'shared' feeds a ReLU too, so it stays in codes")
        var quantized = plan.recipe
        quantized.graphOutputs = .quantized
        XCTAssertTrue(DequantizedOutputs.values(in: graph, recipe: quantized).isEmpty)
        var keptFloat = plan.recipe
        keptFloat.keepFloat = ["direct"]
        XCTAssertFalse(DequantizedOutputs.values(in: graph, recipe: keptFloat).contains(graph.value(named: "direct")!.index),
                       "a Linear kept in float is not an integer product")
    }

    /// Each f32 output is s_x·s_w·(Σ (c - z)·w + round(b / (s_x·s_w))): the integer product
    /// dequantized, with no rounding to an output step.
    func test_floatOutputsAreTheDequantizedAccumulators() throws {
        let (graph, plan, test) = try calibrated(.float)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        var h: [Float] = []
        executor.valueObserver = { id, values in if graph.info(id).name == "h" { h = Array(values) } }
        let outputs = try executor.run(test)
        let hq = try XCTUnwrap(plan.activations["h"])
        for (name, output, offset) in [("direct", "direct", 0), ("box.0", "stacked", 0),
                                       ("box.1", "stacked", Self.rows * Self.code)] {
            let weight = try XCTUnwrap(graph.constants[graph.value(named: "\(name).weight")!])
            let bias = try XCTUnwrap(graph.constants[graph.value(named: "\(name).bias")!])
            let quantized = QuantizedWeight(quantizing: weight, perChannel: false)
            let codes = quantized.codes.rawPointer.assumingMemoryBound(to: Int8.self)
            let accumulatorScale = Double(hq.scale) * Double(quantized.scales[0])
            let values = try XCTUnwrap(outputs[output]).floats()
            for r in 0..<Self.rows {
                for j in 0..<Self.code {
                    var sum = (Double(bias.floatPointer[j]) / accumulatorScale).rounded(.toNearestOrEven)
                    for k in 0..<Self.hidden {
                        let inputCode = (Double(h[r * Self.hidden + k]) / Double(hq.scale)).rounded()
                        sum += inputCode * Double(codes[j * Self.hidden + k])
                    }
                    XCTAssertEqual(Double(values[offset + r * Self.code + j]), sum * accumulatorScale, accuracy: 1e-5, "\(name)[\(r), \(j)]")
                }
            }
        }
        XCTAssertEqual(executor.floatOps, ["stacked"], "the concat runs on f32 and writes f32; the ReLUs are code tables")
    }

    func test_floatOutputsTrackFP32CloserThanCodes() throws {
        func sqnr(_ outputs: QuantizationRecipe.GraphOutputs, _ name: String) throws -> Double {
            let (graph, plan, test) = try calibrated(outputs)
            let exact = try XCTUnwrap(try FP32Executor(graph: graph, threads: 2).run(test)[name])
            let int8 = try XCTUnwrap(try Int8Executor(graph: graph, plan: plan, threads: 2).run(test)[name])
            return exact.withFloats { e in int8.withFloats { QuantMetrics.sqnr(e, $0) } }
        }
        for name in ["direct", "stacked"] {
            XCTAssertGreaterThan(try sqnr(.float, name), try sqnr(.quantized, name) + 1, name)
        }
        XCTAssertEqual(try sqnr(.float, "shared"), try sqnr(.quantized, "shared"), accuracy: 1e-9, "not selected: the same codes")
    }

    func test_everyKernelPathWritesTheSameFloats() throws {
        let (graph, plan, test) = try calibrated(.float)
        var outputs: [String: [String: [Float]]] = [:]
        for name in KernelISA.available {
            try KernelISA.applyEnvironment(["ONBOARD_ISA": name])
            let run = try Int8Executor(graph: graph, plan: plan, threads: 2).run(test)
            outputs[name] = try ["direct", "stacked"].reduce(into: [:]) { $0[$1] = try XCTUnwrap(run[$1]).floats() }
        }
        XCTAssertGreaterThanOrEqual(outputs.count, 2)
        for (name, values) in outputs { XCTAssertEqual(values, outputs["scalar"], name) }
    }

    func test_diagnosisDoesNotRoundTheFloatOutputs() throws {
        let (graph, plan, test) = try calibrated(.float)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        let reports = try QuantizationDiagnosis.compare(reference: graph, quantized: executor, inputs: test, threads: 2)
        let stacked = try XCTUnwrap(reports.first { $0.name == "stacked" })
        XCTAssertEqual(stacked.isolated.sqnr, .infinity, "a concat of exact f32 inputs is exact")
        let direct = try XCTUnwrap(reports.first { $0.name == "direct" })
        let shared = try XCTUnwrap(reports.first { $0.name == "shared" })
        XCTAssertGreaterThan(direct.isolated.sqnr, shared.isolated.sqnr, "input and weight rounding only, no output step")
        let accumulated = try XCTUnwrap(Int8Executor(graph: graph, plan: plan, threads: 2).run(test)["direct"])
        let exact = try XCTUnwrap(FP32Executor(graph: graph, threads: 2).run(test)["direct"])
        XCTAssertEqual(direct.accumulated.sqnr, exact.withFloats { e in accumulated.withFloats { QuantMetrics.sqnr(e, $0) } },
                       accuracy: 1e-6)
    }

    /// `"float_island_inputs": "float"`: a Linear read only by float islands (here SiLUs and a
    /// sigmoid kept in float) writes f32; one that an integer Linear also reads stays in codes;
    /// and the islands read it as the accumulators give it.
    func test_linearsReadOnlyByFloatIslandsWriteFloat() throws {
        var random = TestRandom(seed: 5)
        let g = GraphBuilder()
        func linear(_ name: String, _ x: ValueID) throws -> ValueID {
            try g.node(.linear, [x, try g.constant("\(name).weight", random.gaussian([Self.hidden, Self.width], scale: 0.3))], name: name)
        }
        let x = try g.input("x", shape: [Self.rows, Self.width])
        let gate = try linear("gate", x), mixed = try linear("mixed", x)
        let left = try g.node(.silu, [gate], name: "left")
        let right = try g.node(.sigmoid, [gate], name: "right")
        let projected = try g.node(.linear, [mixed, try g.constant("after.weight", random.gaussian([Self.hidden, Self.hidden], scale: 0.3))],
                                   name: "after")
        g.markOutput(try g.node(.add, [left, try g.node(.silu, [projected], name: "after_silu")], name: "sum"))
        g.markOutput(try g.node(.add, [right, try g.node(.silu, [mixed], name: "mixed_silu")], name: "other"))
        let graph = try g.build()
        var recipe = QuantizationRecipe()
        recipe.keepFloatKinds = ["silu", "sigmoid"]
        let samples = (0..<4).map { _ in ["x": random.gaussian([Self.rows, Self.width])] }
        var plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
        XCTAssertTrue(DequantizedOutputs.values(in: graph, recipe: plan.recipe).isEmpty)
        plan.recipe.floatIslandInputs = .float
        let names = Set(DequantizedOutputs.values(in: graph, recipe: plan.recipe).map { graph.values[$0].name })
        XCTAssertEqual(names, ["gate", "after"], "'mixed' is also read by an integer Linear")

        // The islands then read the accumulators without the rounding to an output step.
        let test = ["x": random.gaussian([Self.rows, Self.width])]
        func gateValues(_ observe: (@escaping (ValueID, UnsafeBufferPointer<Float>) throws -> Void) throws -> Void) rethrows -> [Float] {
            var values: [Float] = []
            try observe { id, buffer in if graph.info(id).name == "gate" { values = Array(buffer) } }
            return values
        }
        let fp32 = try FP32Executor(graph: graph, threads: 2)
        let exact = try gateValues { fp32.valueObserver = $0; _ = try fp32.run(test) }
        var sqnr: [Double] = []
        for inputs in [QuantizationRecipe.FloatIslandInputs.quantized, .float] {
            plan.recipe.floatIslandInputs = inputs
            let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
            let seen = try gateValues { executor.valueObserver = $0; _ = try executor.run(test) }
            sqnr.append(QuantMetrics.sqnr(exact, seen))
        }
        XCTAssertGreaterThan(sqnr[1], sqnr[0] + 1, "SQNR (dB) of the islands' input in codes, then in f32")
    }
}
