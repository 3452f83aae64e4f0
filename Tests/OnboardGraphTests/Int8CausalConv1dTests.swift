import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Mamba's conv1d in the INT8 executor against the convolution of its input and weight codes
/// computed here, both directions, per-tensor and per-channel weights, u8 and f32 outputs, every
/// kernel path.
final class Int8CausalConv1dTests: XCTestCase {
    override func tearDown() { KernelISA.reset() }

    static let (batch, length, channels, taps) = (2, 9, 40, 4)

    /// x -> conv1d (`reverse`) -> silu, x an output too and the conv1d unless `onlySiLUReadsIt`;
    /// 40 channels: a full tile of the epilogue's 32 and a tail.
    func graph(reverse: Bool, onlySiLUReadsIt: Bool = false) throws -> Graph {
        var random = TestRandom(seed: reverse ? 2 : 1)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [Self.batch, Self.length, Self.channels])
        let conv = try g.node(.causalConv1d(reverse: reverse), [
            x, try g.constant("conv.weight", random.gaussian([Self.channels, 1, Self.taps], scale: 0.4)),
            try g.constant("conv.bias", random.gaussian([Self.channels], scale: 0.2)),
        ], name: "conv")
        g.markOutput(try g.node(.silu, [conv], name: "act"))
        if !onlySiLUReadsIt { g.markOutput(conv) }
        g.markOutput(x)  // its codes then outlive the conv1d, for the reference
        return try g.build()
    }

    func plan(_ graph: Graph, recipe: QuantizationRecipe) throws -> QuantizationPlan {
        var random = TestRandom(seed: 5)
        let samples = (0..<4).map { _ in ["x": random.gaussian([Self.batch, Self.length, Self.channels])] }
        return try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
    }

    /// The convolution of the executor's input codes and the weight codes in accumulator units
    /// (s_x s_w per channel), the bias rounded into those units as the kernel adds it, in real units.
    func fakeQuantized(_ executor: Int8Executor, reverse: Bool, perChannel: Bool) -> [Double] {
        let graph = executor.graph
        let xq = executor.plan.activations["x"]!
        let x = executor.codes(graph.value(named: "x")!)
        let weight = QuantizedWeight(quantizing: graph.constants[graph.value(named: "conv.weight")!]!, perChannel: perChannel)
        let w = weight.codes.rawPointer.assumingMemoryBound(to: Int8.self)
        let bias = graph.constants[graph.value(named: "conv.bias")!]!
        var y = [Double](repeating: 0, count: Self.batch * Self.length * Self.channels)
        for c in 0..<Self.channels {
            let unit = Double(xq.scale) * Double(weight.scales.count == 1 ? weight.scales[0] : weight.scales[c])
            let biasUnits = (Double(bias.element(at: c)) / unit).rounded(.toNearestOrEven)
            for b in 0..<Self.batch {
                for t in 0..<Self.length {
                    var sum = biasUnits
                    for k in 0..<Self.taps {
                        let s = reverse ? t + (Self.taps - 1) - k : t - (Self.taps - 1) + k
                        guard (0..<Self.length).contains(s) else { continue }
                        sum += Double(w[c * Self.taps + k]) * Double(Int32(x[(b * Self.length + s) * Self.channels + c]) - xq.zeroPoint)
                    }
                    y[(b * Self.length + t) * Self.channels + c] = sum * unit
                }
            }
        }
        return y
    }

    func test_codesAreWithinOneStepOfTheFakeQuantizedConvolution() throws {
        for reverse in [false, true] {
            for perChannel in [false, true] {
                var recipe = QuantizationRecipe()
                recipe.weights = perChannel ? .perChannel : .perTensor
                let graph = try graph(reverse: reverse)
                let executor = try Int8Executor(graph: graph, plan: try plan(graph, recipe: recipe), threads: 2)
                XCTAssertEqual(executor.executions[0], .integer)
                var random = TestRandom(seed: 9)
                _ = try executor.run(["x": random.gaussian([Self.batch, Self.length, Self.channels])])
                let yq = executor.plan.activations["conv"]!
                let y = executor.codes(graph.value(named: "conv")!)
                let reference = fakeQuantized(executor, reverse: reverse, perChannel: perChannel)
                var worst: Int32 = 0
                for (i, value) in reference.enumerated() {
                    let code = min(max(Int32((value / Double(yq.scale)).rounded(.toNearestOrEven)) + yq.zeroPoint, 0), 255)
                    worst = max(worst, abs(code - Int32(y[i])))
                }
                XCTAssertLessThanOrEqual(worst, 1, "reverse \(reverse), per channel \(perChannel)")
            }
        }
    }

    /// Read only by a float island (`"float_island_inputs": "float"`), the output is the accumulators
    /// times their scale, as MambaQuant quantizes the conv1d's input and weight only.
    func test_floatOutputIsTheAccumulatorsInRealUnits() throws {
        for reverse in [false, true] {
            var recipe = QuantizationRecipe()
            recipe.weights = .perChannel
            recipe.floatIslandInputs = .float
            let graph = try graph(reverse: reverse, onlySiLUReadsIt: true)
            let executor = try Int8Executor(graph: graph, plan: try plan(graph, recipe: recipe), threads: 2)
            XCTAssertNil(executor.storedQuantization(of: graph.value(named: "conv")!))
            var random = TestRandom(seed: 11)
            _ = try executor.run(["x": random.gaussian([Self.batch, Self.length, Self.channels])])
            let y = executor.floats(graph.value(named: "conv")!)
            let reference = fakeQuantized(executor, reverse: reverse, perChannel: true)
            let largest = reference.map(abs).max() ?? 1
            for (i, value) in reference.enumerated() { XCTAssertEqual(Double(y[i]), value, accuracy: 1e-6 * largest, "\(i)") }
        }
    }

    func test_everyKernelPathGivesTheSameCodes() throws {
        let graph = try graph(reverse: true)
        let plan = try plan(graph, recipe: QuantizationRecipe())
        var random = TestRandom(seed: 13)
        let x = random.gaussian([Self.batch, Self.length, Self.channels])
        var outputs: [String: [Float]] = [:]
        for name in KernelISA.available {
            try KernelISA.applyEnvironment(["ONBOARD_ISA": name])
            let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
            try KernelISA.applyEnvironment(["ONBOARD_ISA": name])
            outputs[name] = try executor.run(["x": x])["conv"]!.floats()
        }
        XCTAssertGreaterThanOrEqual(outputs.count, 2)
        for (name, values) in outputs { XCTAssertEqual(values, outputs["scalar"], name) }
    }
}
