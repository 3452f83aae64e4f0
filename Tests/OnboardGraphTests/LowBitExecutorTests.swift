import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// A recipe's `low_bit` part in the INT8 executor: each low-bit Linear computes, in integers, what
/// its quantizers define in float (checked against that definition written out here), and 4-bit
/// weights take about half the bytes.
final class LowBitExecutorTests: XCTestCase {
    static let tokens = 6, width = 32, hidden = 64

    /// x [2, 6, 32] -> layernorm -> fc1 (-> 64) -> gelu -> fc2 (-> 32) -> out; a few channels of x
    /// are large so the LayerNorm output has outliers.
    private func mlp() throws -> Graph {
        var random = TestRandom(seed: 3)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [2, Self.tokens, Self.width])
        let gamma = try g.constant("norm.weight", try Tensor(shape: [Self.width], values: (0..<Self.width).map { $0 % 11 == 0 ? 6 : 1 }))
        let beta = try g.constant("norm.bias", Tensor(zeros: [Self.width]))
        let normed = try g.node(.layerNorm(epsilon: 1e-6), [x, gamma, beta], name: "norm")
        let fc1 = try g.node(.linear, [normed, try g.constant("fc1.weight", random.gaussian([Self.hidden, Self.width], scale: 0.2)),
                                       try g.constant("fc1.bias", random.gaussian([Self.hidden], scale: 0.1))], name: "fc1")
        let act = try g.node(.gelu(approximate: false), [fc1], name: "act")
        g.markOutput(try g.node(.linear, [act, try g.constant("fc2.weight", random.gaussian([Self.width, Self.hidden], scale: 0.2))],
                                name: "fc2"))
        return try g.build()
    }

    private func samples(_ count: Int, seed: UInt64) -> [[String: Tensor]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in ["x": random.gaussian([2, Self.tokens, Self.width])] }
    }

    private func recipe(weightBits: Int = 4, activationBits: Int = 4, perPatch: Bool = true, log: Bool = true,
                        cfws: Double? = 0.05) -> QuantizationRecipe {
        var lowBit = LowBitRecipe()
        lowBit.weightBits = weightBits
        lowBit.activationBits = activationBits
        lowBit.activationObserver = .quantile
        lowBit.postLayerNorm = perPatch ? .perPatch : .perTensor
        lowBit.outlierThreshold = 2.5
        lowBit.postGELU = log ? .shiftLog2 : .uniform
        lowBit.cfwsFraction = cfws
        var recipe = QuantizationRecipe()
        recipe.lowBit = lowBit
        return recipe
    }

    private func plan(_ graph: Graph, _ recipe: QuantizationRecipe) throws -> QuantizationPlan {
        let calibration = samples(4, seed: 1)
        return try Calibrator.calibrate(graph: graph, recipe: recipe, count: calibration.count, threads: 2) { calibration[$0] }
    }

    /// Every value the executor computes, dequantized, by name.
    private func run(_ graph: Graph, _ plan: QuantizationPlan, _ input: [String: Tensor], threads: Int = 2) throws -> [String: [Float]] {
        let executor = try Int8Executor(graph: graph, plan: plan, threads: threads)
        var seen: [String: [Float]] = [:]
        executor.valueObserver = { id, values in seen[graph.info(id).name] = Array(values) }
        _ = try executor.run(input)
        return seen
    }

    private func floats(_ graph: Graph, _ name: String) throws -> [Float] {
        let id = try XCTUnwrap(graph.values.firstIndex { $0.name == name })
        let tensor = try XCTUnwrap(graph.constants[ValueID(index: id)])
        return Array(UnsafeBufferPointer(start: tensor.floatPointer, count: tensor.count))
    }

    /// y = x Wᵀ + b for x [M, K], W [N, K], quantized to `output`'s codes and back. With
    /// `accumulatorSteps`, b_j is first rounded to a multiple of step j, as an integer product folds it.
    private func product(_ x: [Float], _ w: [Float], _ b: [Float]?, n: Int, output: ActivationQuant,
                         accumulatorSteps: [Float]? = nil) -> [Float] {
        let k = w.count / n, m = x.count / k
        let params = QuantParams(scale: output.scale, zeroPoint: output.zeroPoint, bits: 8, symmetric: false)
        return (0..<(m * n)).map { index in
            let i = index / n, j = index % n
            let bias = Double(b?[j] ?? 0), step = Double(accumulatorSteps?[j] ?? 0)
            var sum = step > 0 ? (bias / step).rounded(.toNearestOrEven) * step : bias
            for c in 0..<k { sum += Double(x[i * k + c]) * Double(w[j * k + c]) }
            return params.dequantize(min(max(params.quantize(Float(sum)), output.qmin), output.qmax))
        }
    }

    /// Asserts the executor's codes equal the reference's, allowing a one-code tie flip in 1 % of them.
    private func assertSameCodes(_ got: [Float], _ expected: [Float], step: Float, _ what: String) {
        XCTAssertEqual(got.count, expected.count)
        let steps = zip(got, expected).map { abs($0 - $1) / step }
        XCTAssertLessThanOrEqual(steps.max() ?? 0, 1.001, what)
        XCTAssertLessThanOrEqual(Double(steps.filter { $0 > 0.5 }.count), 0.01 * Double(steps.count), what)
    }

    func test_perPatchCFWSLinearIsItsFloatDefinition() throws {
        let graph = try mlp()
        let recipe = recipe()
        let plan = try plan(graph, recipe)
        let perToken = try XCTUnwrap(plan.perToken?["norm"])
        XCTAssertEqual(perToken.positions, Self.tokens)
        XCTAssertTrue(perToken.zeroPoints.allSatisfy { (0...15).contains($0) } && perToken.qmax == 15)
        let seen = try run(graph, plan, samples(1, seed: 9)[0])
        let normed = try XCTUnwrap(seen["norm"])
        // The per-patch quantizer: static range per token position, outliers exact.
        let outliers = normed.filter { abs($0) > 2.5 }.count
        XCTAssertGreaterThan(outliers, 0, "the fixture must have outliers")
        let x = normed.enumerated().map { index, v -> Float in
            guard abs(v) <= 2.5 else { return v }
            let position = (index / Self.width) % Self.tokens
            let q = QuantParams(scale: perToken.scales[position], zeroPoint: perToken.zeroPoints[position], bits: 4, symmetric: false)
            return q.fakeQuantize(v)
        }
        let split = try CFWS.splitLinear(try floats(graph, "fc1.weight"), rows: Self.hidden, columns: Self.width, bits: 4,
                                         fraction: 0.05, mseClip: false)
        XCTAssertEqual(split.coarse.count, 2 * Self.hidden)
        let output = try XCTUnwrap(plan.activations["fc1"])
        let expected = product(x, split.reconstructed(rows: Self.hidden, columns: Self.width), try floats(graph, "fc1.bias"),
                               n: Self.hidden, output: output)
        assertSameCodes(try XCTUnwrap(seen["fc1"]), expected, step: output.scale, "fc1 against its float definition")
    }

    func test_shiftLogCodesFeedTheProductThroughTheirTable() throws {
        let graph = try mlp()
        let plan = try plan(graph, recipe(cfws: nil))
        let log = try XCTUnwrap(plan.logCodes?["act"])
        XCTAssertEqual(log.bits, 4)
        XCTAssertLessThan(log.shift, -0.16, "the shift is GELU's minimum (-0.17) less epsilon")
        XCTAssertGreaterThan(log.shift, -0.18)
        let seen = try run(graph, plan, samples(1, seed: 9)[0])
        // The stored activation is on the log grid: delta 2^(-q/2) + shift, or the shift alone.
        let levels = Set((0...16).map { log.value(of: UInt8($0)) })
        let act = try XCTUnwrap(seen["act"])
        XCTAssertTrue(act.allSatisfy(levels.contains))
        XCTAssertGreaterThan(Set(act).count, 8, "the activation should use most of the 17 codes")
        // The product reads code q as round(255 * 2^(-q/2)) steps of delta / 255: within half a step of the level.
        let table = log.productCodes
        for q in 0...16 {
            let read = Float(table[q]) * log.productScale + log.shift
            XCTAssertEqual(read, log.value(of: UInt8(q)), accuracy: log.productScale / 2 + 1e-6, "code \(q)")
        }
        let weights = QuantizedWeight(quantizing: try XCTUnwrap(graph.floatConstant(ValueID(index: graph.values.firstIndex { $0.name == "fc2.weight" }!))),
                                      perChannel: true, bits: 4)
        let dequantized = weights.dequantized()
        let w = Array(UnsafeBufferPointer(start: dequantized.floatPointer, count: dequantized.count))
        let codes = try act.map { value in try XCTUnwrap((0...16).first { log.value(of: UInt8($0)) == value }) }
        // The shift times each weight column joins as a bias, folded in accumulator units.
        let shiftTerms = (0..<Self.width).map { j in log.shift * w[(j * Self.hidden)..<((j + 1) * Self.hidden)].reduce(0, +) }
        let output = try XCTUnwrap(plan.activations["fc2"])
        let expected = product(codes.map { Float(table[$0]) * log.productScale }, w, shiftTerms, n: Self.width, output: output,
                               accumulatorSteps: weights.scales.map { $0 * log.productScale })
        assertSameCodes(try XCTUnwrap(seen["fc2"]), expected, step: output.scale, "fc2 against its float definition")
    }

    func test_naiveFourBitLinearIsThePerChannelQuantizedProduct() throws {
        let graph = try mlp()
        let plan = try plan(graph, recipe(perPatch: false, log: false, cfws: nil))
        XCTAssertNil(plan.perToken)
        XCTAssertNil(plan.logCodes)
        let input = try XCTUnwrap(plan.activations["norm"])
        XCTAssertEqual(input.qmax, 15, "an in-scope Linear's input is calibrated at 4 bits")
        let seen = try run(graph, plan, samples(1, seed: 9)[0])
        let codes = input.codes(of: try XCTUnwrap(seen["norm"]))
        let x = codes.map { input.scale * Float(Int32($0) - input.zeroPoint) }
        let weights = QuantizedWeight(quantizing: try XCTUnwrap(graph.floatConstant(ValueID(index: graph.values.firstIndex { $0.name == "fc1.weight" }!))),
                                      perChannel: true, bits: 4)
        XCTAssertEqual(weights.scales.count, Self.hidden)
        let dequantized = weights.dequantized()
        let output = try XCTUnwrap(plan.activations["fc1"])
        let expected = product(x, Array(UnsafeBufferPointer(start: dequantized.floatPointer, count: dequantized.count)),
                               try floats(graph, "fc1.bias"), n: Self.hidden, output: output,
                               accumulatorSteps: weights.scales.map { $0 * input.scale })
        assertSameCodes(try XCTUnwrap(seen["fc1"]), expected, step: output.scale, "fc1 against its float definition")
    }

    /// `"weight_group_size"`: each output's weights get a scale per run of 16 inputs (fc1 two groups,
    /// fc2 four), with static inputs and with per-patch inputs whose outliers meet each depth's group scale.
    func test_groupedFourBitLinearIsThePerGroupQuantizedProduct() throws {
        let graph = try mlp()
        for perPatch in [false, true] {
            var recipe = recipe(perPatch: perPatch, log: false, cfws: nil)
            recipe.lowBit?.weightGroupSize = 16
            let plan = try plan(graph, recipe)
            let seen = try run(graph, plan, samples(1, seed: 9)[0])
            let normed = try XCTUnwrap(seen["norm"])
            let x: [Float]
            if perPatch {
                let perToken = try XCTUnwrap(plan.perToken?["norm"])
                XCTAssertGreaterThan(normed.filter { abs($0) > 2.5 }.count, 0, "the fixture must have outliers")
                x = normed.enumerated().map { index, v -> Float in
                    guard abs(v) <= 2.5 else { return v }
                    let position = (index / Self.width) % Self.tokens
                    return QuantParams(scale: perToken.scales[position], zeroPoint: perToken.zeroPoints[position], bits: 4, symmetric: false).fakeQuantize(v)
                }
            } else {
                let input = try XCTUnwrap(plan.activations["norm"])
                x = input.codes(of: normed).map { input.scale * Float(Int32($0) - input.zeroPoint) }
            }
            let weight = try XCTUnwrap(graph.floatConstant(try XCTUnwrap(graph.value(named: "fc1.weight"))))
            let grouped = QuantizedWeight(quantizing: weight, perChannel: true, bits: 4, groupSize: 16)
            XCTAssertEqual(grouped.scales.count, 2 * Self.hidden)
            XCTAssertEqual(grouped.groupSize, 16)
            let dequantized = grouped.dequantized()
            let output = try XCTUnwrap(plan.activations["fc1"])
            let expected = product(x, Array(UnsafeBufferPointer(start: dequantized.floatPointer, count: dequantized.count)),
                                   try floats(graph, "fc1.bias"), n: Self.hidden, output: output)
            assertSameCodes(try XCTUnwrap(seen["fc1"]), expected, step: output.scale, "fc1 (perPatch \(perPatch)) against its grouped definition")
            // Per-channel scales over the same codes would be another product: the groups are used.
            let perChannel = QuantizedWeight(quantizing: weight, perChannel: true, bits: 4).dequantized()
            let other = product(x, Array(UnsafeBufferPointer(start: perChannel.floatPointer, count: perChannel.count)),
                                try floats(graph, "fc1.bias"), n: Self.hidden, output: output)
            XCTAssertGreaterThan(zip(other, try XCTUnwrap(seen["fc1"])).filter { abs($0 - $1) > 1.5 * output.scale }.count, Self.hidden / 4)
            let input = samples(1, seed: 5)[0]
            XCTAssertEqual(try run(graph, plan, input, threads: 1)["fc2"], try run(graph, plan, input, threads: 3)["fc2"])
        }
    }

    /// `"dynamic_per_token"`: each row of an in-scope Linear's input is quantized over its own range
    /// at run time. The float ops' outputs (LayerNorm, GELU) reach fc1 and fc2 in f32; with fc1 out of
    /// scope, its codes reach fc2 dequantized. Either way the Linear equals the per-row quantized
    /// product with per-channel weights.
    func test_dynamicPerTokenLinearQuantizesEachRowOverItsOwnRange() throws {
        try assertDynamicPerToken(scope: [], linears: [("fc1", "norm", Self.hidden), ("fc2", "act", Self.width)], floatInputs: ["norm", "act"])
        try assertDynamicPerToken(scope: ["fc2"], linears: [("fc2", "act", Self.width)], floatInputs: [])
    }

    private func assertDynamicPerToken(scope: [String], linears: [(String, String, Int)], floatInputs: Set<String>) throws {
        var graph = try mlp()
        if scope == ["fc2"] {
            // fc2 reads fc1's codes directly: the GELU goes.
            let g = GraphBuilder()
            var random = TestRandom(seed: 3)
            let x = try g.input("x", shape: [2, Self.tokens, Self.width])
            let fc1 = try g.node(.linear, [x, try g.constant("fc1.weight", random.gaussian([Self.hidden, Self.width], scale: 0.2)),
                                           try g.constant("fc1.bias", random.gaussian([Self.hidden], scale: 0.1))], name: "act")
            g.markOutput(try g.node(.linear, [fc1, try g.constant("fc2.weight", random.gaussian([Self.width, Self.hidden], scale: 0.2))],
                                    name: "fc2"))
            graph = try g.build()
        }
        var recipe = recipe(weightBits: 8, activationBits: 8, perPatch: false, log: false, cfws: nil)
        recipe.lowBit?.activationObserver = nil
        recipe.lowBit?.dynamicPerToken = true
        recipe.lowBit?.scope = scope
        let plan = try plan(graph, recipe)
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        for (_, source, _) in linears {
            XCTAssertEqual(executor.storesCodes(try XCTUnwrap(graph.value(named: source))), !floatInputs.contains(source), source)
        }
        let input = samples(1, seed: 9)[0]
        let seen = try run(graph, plan, input)
        for (linear, source, n) in linears {
            let values = try XCTUnwrap(seen[source])
            let k = values.count / (2 * Self.tokens)
            let x = (0..<(2 * Self.tokens)).flatMap { row -> [Float] in
                let slice = values[(row * k)..<((row + 1) * k)]
                let q = QuantParams.affine(min: slice.min() ?? 0, max: slice.max() ?? 0, bits: 8, symmetric: false)
                return slice.map { q.fakeQuantize($0) }
            }
            let weight = try XCTUnwrap(graph.floatConstant(try XCTUnwrap(graph.value(named: "\(linear).weight"))))
            let dequantized = QuantizedWeight(quantizing: weight, perChannel: true).dequantized()
            let output = try XCTUnwrap(plan.activations[linear])
            let bias = linear == "fc1" ? try floats(graph, "fc1.bias") : nil
            let expected = product(x, Array(UnsafeBufferPointer(start: dequantized.floatPointer, count: dequantized.count)), bias,
                                   n: n, output: output)
            assertSameCodes(try XCTUnwrap(seen[linear]), expected, step: output.scale, "\(linear) against its per-token definition")
        }
        XCTAssertEqual(try run(graph, plan, input, threads: 1)["fc2"], try run(graph, plan, input, threads: 3)["fc2"])
    }

    /// Executors of one model at several shapes quantize a low-bit weight once, into their shared cache.
    func test_executorsSharingAWeightCacheQuantizeLowBitWeightsOnce() throws {
        let graph = try mlp()
        var recipe = recipe(perPatch: false, log: false, cfws: nil)
        recipe.lowBit?.weightGroupSize = 16
        let plan = try plan(graph, recipe)
        let cache = QuantizedWeightCache()
        let first = try Int8Executor(graph: graph, plan: plan, threads: 2, weightCache: cache)
        var quantizedAgain = false
        let cached = cache.value("fc1.weight") {
            quantizedAgain = true
            return QuantizedWeight(codes: Tensor(zeros: [1], dtype: .i8), scales: [1])
        }
        XCTAssertFalse(quantizedAgain, "the first executor put fc1's codes in the cache")
        XCTAssertEqual(cached.scales.count, 2 * Self.hidden, "grouped, as the recipe asks")
        let second = try Int8Executor(graph: graph, plan: plan, threads: 2, weightCache: cache)
        let input = samples(1, seed: 5)[0]
        XCTAssertEqual(try first.run(input)["fc2"]?.floats(), try second.run(input)["fc2"]?.floats())
    }

    func test_resultsDoNotDependOnTheThreadCount() throws {
        let graph = try mlp()
        let plan = try plan(graph, recipe())
        let input = samples(1, seed: 5)[0]
        XCTAssertEqual(try run(graph, plan, input, threads: 1)["fc2"], try run(graph, plan, input, threads: 3)["fc2"])
    }

    func test_fourBitWeightsTakeAboutHalfTheBytes() throws {
        var random = TestRandom(seed: 4)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [8, 384])
        g.markOutput(try g.node(.linear, [x, try g.constant("w", random.gaussian([1152, 384], scale: 0.05)),
                                          try g.constant("b", Tensor(zeros: [1152]))], name: "fc"))
        let graph = try g.build()
        func bytes(_ bits: Int, cfws: Double? = nil) throws -> Int {
            var recipe = recipe(weightBits: bits, activationBits: 8, perPatch: false, log: false, cfws: cfws)
            recipe.lowBit?.activationObserver = nil
            let calibration = [["x": random.gaussian([8, 384])]]
            let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: 1, threads: 2) { calibration[$0] }
            return try Int8Executor(graph: graph, plan: plan, threads: 2).weightBytes
        }
        let eight = try bytes(8), four = try bytes(4)
        XCTAssertLessThanOrEqual(Double(four), 0.55 * Double(eight))
        XCTAssertGreaterThanOrEqual(Double(four), 0.5 * Double(eight))
        XCTAssertLessThanOrEqual(Double(try bytes(4, cfws: 0.005)), 0.6 * Double(eight))
    }

    func test_recipeRejectsWhatTheExecutorCannotRun() throws {
        func decode(_ json: String) throws -> QuantizationRecipe { try JSONDecoder().decode(QuantizationRecipe.self, from: Data(json.utf8)) }
        XCTAssertThrowsError(try decode(#"{"low_bit": {"weight_bits": 3}}"#))
        XCTAssertThrowsError(try decode(#"{"low_bit": {"activation_bits": 8, "post_gelu": "shift_log2"}}"#))
        XCTAssertThrowsError(try decode(#"{"low_bit": {"cfws_fraction": 0.5}}"#))
        XCTAssertThrowsError(try decode(#"{"low_bit": {"dynamic_per_token": true, "post_layernorm": "per_patch"}}"#))
        XCTAssertThrowsError(try decode(#"{"low_bit": {"outlier_thresold": 5}}"#), "a misspelt key")
        XCTAssertThrowsError(try decode(#"{"low_bit": {"weight_group_size": 24}}"#), "not a power of two")
        XCTAssertThrowsError(try decode(#"{"low_bit": {"weight_group_size": 16, "cfws_fraction": 0.01}}"#))
        XCTAssertThrowsError(try decode(#"{"low_bit": {"weight_group_size": 64}}"#).validate(against: try mlp(), source: "r.json")) { error in
            XCTAssertTrue("\(error)".contains("low_bit.weight_group_size") && "\(error)".contains("fc1 has 32 inputs"), "\(error)")
        }
        let recipe = try decode(#"{"low_bit": {"scope": ["blocks."], "activation_bits": 4, "post_gelu": "shift_log2"}}"#)
        XCTAssertThrowsError(try recipe.validate(against: try mlp(), source: "r.json")) { error in
            XCTAssertTrue("\(error)".contains("low_bit.scope"), "\(error)")
        }
    }
}
