import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// `"residual_bits": 16`: an integer LayerNorm of an integer add forms the sum of the add's operands
/// at 16 bits instead of reading the add's 8-bit codes (a post-LN residual with an outlier channel).
final class WideResidualNormTests: XCTestCase {
    static let width = 64

    /// y = LayerNorm(x + h); x carries one outlier channel (5), as a BERT residual does. With
    /// `channelScale` the sum is multiplied by it first (a smoothed residual: x and h arrive divided).
    func graph(channelScale: [Float]? = nil) throws -> Graph {
        let g = GraphBuilder(), d = Self.width
        var random = TestRandom(seed: 3)
        let x = try g.input("x", shape: [8, d]), h = try g.input("h", shape: [8, d])
        var sum = try g.node(.add, [x, h], name: "residual")
        if let channelScale {
            sum = try g.node(.mul, [sum, try g.constant("scale", try Tensor(shape: [d], values: channelScale))], name: "residual.scaled")
        }
        // The outlier channel's own output is damped (small gamma), so the output codes resolve the others.
        var gains = random.floats(d, scale: 0.3).map { 1 + $0 }
        gains[5] = 0.02
        let gamma = try g.constant("gamma", try Tensor(shape: [d], values: gains))
        let beta = try g.constant("beta", try Tensor(shape: [d], values: random.floats(d, scale: 0.1)))
        g.markOutput(try g.node(.layerNorm(epsilon: 1e-12), [sum, gamma, beta], name: "norm"))
        return try g.build()
    }

    /// The outlier channel's offset; a smoothed residual divides channel 5 by it instead.
    static let outlier: Float = 100

    func samples(_ count: Int, seed: UInt64, smoothed: Bool = false) -> [[String: Tensor]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in
            let x = random.gaussian([8, Self.width]), h = random.gaussian([8, Self.width])
            x.withMutableFloats { values in
                for row in 0..<8 {
                    let outlier = -Self.outlier + values[row * Self.width + 5]
                    values[row * Self.width + 5] = smoothed ? outlier / Self.outlier : outlier
                }
            }
            if smoothed { h.withMutableFloats { values in for row in 0..<8 { values[row * Self.width + 5] /= Self.outlier } } }
            return ["x": x, "h": h]
        }
    }

    /// LayerNorm in float of the operands as `plan` holds them (their codes), clamped to the output's range.
    func heldReference(_ graph: Graph, _ plan: QuantizationPlan, _ input: [String: Tensor]) throws -> (values: [Float], step: Float) {
        var held: [String: Tensor] = [:]
        for (name, tensor) in input {
            let q = try XCTUnwrap(plan.activations[name])
            held[name] = try Tensor(shape: tensor.shape, values: tensor.floats().map { value in
                let code = min(max((value / q.scale).rounded() + Float(q.zeroPoint), Float(q.qmin)), Float(q.qmax))
                return (code - Float(q.zeroPoint)) * q.scale
            })
        }
        let output = try XCTUnwrap(plan.activations["norm"]), step = output.scale
        let (low, high) = (Float(output.qmin - output.zeroPoint) * step, Float(output.qmax - output.zeroPoint) * step)
        let exact = try XCTUnwrap(try FP32Executor(graph: graph, threads: 2).run(held)["norm"]).floats().map { min(max($0, low), high) }
        return (exact, step)
    }

    func testASmoothedResidualIsMultipliedBackPerChannelInsideTheSixteenBitSum() throws {
        var scale = [Float](repeating: 1, count: Self.width)
        scale[5] = Self.outlier
        let graph = try graph(channelScale: scale)
        var recipe = QuantizationRecipe()
        (recipe.requantization, recipe.layerNorm, recipe.residualBits) = (.fixedPoint, .integer, 16)
        let calibration = samples(8, seed: 1, smoothed: true)
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: calibration.count, threads: 2) { calibration[$0] }
        let wide = try Int8Executor(graph: graph, plan: plan, threads: 2)
        XCTAssertEqual(wide.wideNorms.count, 1)
        var narrowPlan = plan
        narrowPlan.recipe.residualBits = 8
        let narrow = try Int8Executor(graph: graph, plan: narrowPlan, threads: 2)
        let input = samples(1, seed: 9, smoothed: true)[0]
        let (exact, step) = try heldReference(graph, plan, input)
        func worstSteps(_ executor: Int8Executor) throws -> Float {
            zip(try XCTUnwrap(try executor.run(input)["norm"]).floats(), exact).map { abs($0 - $1) / step }.max() ?? .infinity
        }
        let (narrowSteps, wideSteps) = (try worstSteps(narrow), try worstSteps(wide))
        print(String(format: "smoothed residual: worst error, 8-bit codes of the scaled sum %.1f output steps, 16-bit sum with per-channel factors %.2f",
                     narrowSteps, wideSteps))
        XCTAssertLessThanOrEqual(wideSteps, 1.5)
        XCTAssertGreaterThan(narrowSteps, 4 * wideSteps)
    }

    func testSixteenBitResidualRecoversTheChannelsTheOutlierSqueezes() throws {
        let graph = try graph()
        var recipe = QuantizationRecipe()
        (recipe.requantization, recipe.layerNorm) = (.fixedPoint, .integer)
        let calibration = samples(8, seed: 1)
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: calibration.count, threads: 2) { calibration[$0] }
        var widePlan = plan
        widePlan.recipe.residualBits = 16
        let narrow = try Int8Executor(graph: graph, plan: plan, threads: 2), wide = try Int8Executor(graph: graph, plan: widePlan, threads: 1)
        XCTAssertEqual(wide.floatOps, [])
        XCTAssertEqual(wide.wideNorms.count, 1)
        let input = samples(1, seed: 9)[0]
        let (exact, step) = try heldReference(graph, plan, input)
        func worstSteps(_ executor: Int8Executor) throws -> Float {
            let y = try executor.run(input)["norm"]!.floats()
            let errors = zip(y, exact).map { abs($0 - $1) / step }
            return errors.max() ?? .infinity
        }
        let (narrowSteps, wideSteps) = (try worstSteps(narrow), try worstSteps(wide))
        print(String(format: "LayerNorm of a residual with an outlier channel: worst error 8-bit sum %.1f output steps, 16-bit sum %.2f", narrowSteps, wideSteps))
        XCTAssertLessThanOrEqual(wideSteps, 1.5)
        XCTAssertGreaterThan(narrowSteps, 4 * wideSteps)
        // Threads split rows only.
        let twoThreads = try Int8Executor(graph: graph, plan: widePlan, threads: 2)
        XCTAssertEqual(try twoThreads.run(input)["norm"]!.floats(), try wide.run(input)["norm"]!.floats())
    }
}
