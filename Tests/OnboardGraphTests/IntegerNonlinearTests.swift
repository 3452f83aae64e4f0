import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Softmax and layernorm without float islands: the integer lookup-table softmax and DI-Norm.
final class IntegerNonlinearTests: XCTestCase {
    /// Float softmax of the dequantized codes, then that quantized (the float island's result).
    func floatSoftmax(_ codes: [UInt8], width: Int, input: ActivationQuant) -> [Double] {
        var result: [Double] = []
        for start in stride(from: 0, to: codes.count, by: width) {
            let x = codes[start..<(start + width)].map { Double(input.scale) * Double(Int32($0) - input.zeroPoint) }
            let top = x.max() ?? 0
            let e = x.map { Foundation.exp($0 - top) }
            let sum = e.reduce(0, +)
            result += e.map { $0 / sum }
        }
        return result
    }

    func test_lutSoftmaxStaysWithinItsBoundOfFloatSoftmax() throws {
        var random = TestRandom(seed: 3)
        let inputs = [("stabilized", ActivationQuant(scale: 0.06, zeroPoint: 255)), ("plain", ActivationQuant(scale: 0.2, zeroPoint: 100)),
                      ("coarse", ActivationQuant(scale: 0.5, zeroPoint: 255))]
        let outputs = [ActivationQuant(scale: 1 / 255, zeroPoint: 0), ActivationQuant(scale: 0.3 / 255, zeroPoint: 0),
                       ActivationQuant(scale: 0.004, zeroPoint: 128, qmin: 1, qmax: 255)]
        var worstSteps = 0.0
        for (label, input) in inputs {
            for output in outputs {
                let softmax = try IntegerSoftmax(input: input, output: output, node: "probs")
                for width in [1, 7, 64, 1000] {
                    let rows = 6
                    // Spread codes over the whole range, with a few rows of nearly equal codes.
                    let codes = (0..<(rows * width)).map { i -> UInt8 in
                        i / width == 2 ? UInt8(250 - random.int(in: 0...2)) : UInt8(random.int(in: 0...255))
                    }
                    var out = [UInt8](repeating: 0, count: codes.count)
                    codes.withUnsafeBufferPointer { x in
                        out.withUnsafeMutableBufferPointer { y in softmax.run(x.baseAddress!, y.baseAddress!, rows: 0..<rows, width: width) }
                    }
                    let exact = floatSoftmax(codes, width: width, input: input)
                    let low = Double(output.scale) * Double(output.qmin - output.zeroPoint), high = Double(output.scale) * Double(output.qmax - output.zeroPoint)
                    let bound = softmax.errorBound(width: width)
                    for (code, p) in zip(out, exact) {
                        let value = Double(output.scale) * Double(Int32(code) - output.zeroPoint)
                        let error = abs(value - min(max(p, low), high))
                        XCTAssertLessThanOrEqual(error, bound, "\(label) width \(width) scale \(output.scale)")
                        worstSteps = max(worstSteps, error / Double(output.scale))
                        // And at most one code from the float island.
                        let island = min(max((p / Double(output.scale)).rounded(.toNearestOrEven) + Double(output.zeroPoint), Double(output.qmin)), Double(output.qmax))
                        XCTAssertLessThanOrEqual(abs(Double(code) - island), 1)
                    }
                }
            }
        }
        // Rounding to the output step dominates: the worst case is about half a step, not far less.
        XCTAssertGreaterThan(worstSteps, 0.45)
        XCTAssertLessThan(worstSteps, 0.51)
    }

    /// The executor's layernorm (one reciprocal per row) against OnboardQuant's DI-Norm (one
    /// division per element) on the same parameters.
    func test_integerLayerNormFollowsDINorm() throws {
        var random = TestRandom(seed: 6)
        let input = ActivationQuant(scale: 0.05, zeroPoint: 128), output = ActivationQuant(scale: 0.03, zeroPoint: 120)
        var total = 0, equal = 0
        for width in [24, 256, 1000] {
            var gamma = random.floats(width, scale: 0.8)
            gamma[1] = 0  // a zero gain
            let beta = random.floats(width, scale: 0.3)
            let rows = 8
            // Rows of wide, narrow (3 codes) and no spread.
            let codes = (0..<(rows * width)).map { i -> UInt8 in
                switch i / width {
                case 0: return 77
                case 1: return UInt8(100 + random.int(in: 0...2))
                default: return UInt8(random.int(in: 0...255))
                }
            }
            let norm = try gamma.withUnsafeBufferPointer { g in
                try beta.withUnsafeBufferPointer { b in
                    try IntegerLayerNorm(gamma: g, beta: b, epsilon: 1e-5, input: input, output: output, node: "norm")
                }
            }
            var out = [UInt8](repeating: 0, count: codes.count)
            let work = AlignedBuffer(byteCount: IntegerLayerNorm.workBytes(width: width))
            codes.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { y in norm.run(x.baseAddress!, y.baseAddress!, rows: 0..<rows, work: work.pointer) }
            }
            let reference = try DINorm(kind: .layerNorm, gamma: gamma, beta: beta, epsilon: Double(Float(1e-5)), inputScale: Double(input.scale),
                                       output: QuantParams(scale: output.scale, zeroPoint: output.zeroPoint, bits: 8, symmetric: false))
            let expected = try reference(codes.map { Int32($0) })
            for (a, b) in zip(out, expected) {
                XCTAssertLessThanOrEqual(abs(Int32(a) - b), 1, "width \(width)")
                total += 1
                equal += Int32(a) == b ? 1 : 0
            }
        }
        XCTAssertGreaterThan(Double(equal) / Double(total), 0.999)
    }

    func test_lutSoftmaxRejectsAnOutputScaleItCannotRepresent() {
        XCTAssertThrowsError(try IntegerSoftmax(input: ActivationQuant(scale: 0.1, zeroPoint: 255),
                                                output: ActivationQuant(scale: 1e-30, zeroPoint: 0), node: "probs")) {
            XCTAssertTrue("\($0)".contains("probs"), "\($0)")
        }
    }

    /// x [2, 12, 24] -> fc -> + x -> layernorm -> ·(·)ᵀ -> softmax -> · -> out.
    func blockGraph() throws -> Graph {
        var random = TestRandom(seed: 12)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [2, 12, 24])
        let h = try g.node(.linear, [x, try g.constant("fc.weight", random.gaussian([24, 24], scale: 0.3))], name: "fc")
        let r = try g.node(.add, [x, h], name: "residual")
        let n = try g.node(.layerNorm(epsilon: 1e-5), [r, try g.constant("norm.weight", random.gaussian([24], scale: 0.5)),
                                                        try g.constant("norm.bias", random.gaussian([24], scale: 0.2))], name: "norm")
        let s = try g.node(.matmul(transposeB: true, alpha: 0.3), [n, r], name: "scores")
        let p = try g.node(.softmax, [s], name: "probs")
        let c = try g.node(.matmul(transposeB: false), [p, n], name: "context")
        g.markOutput(c)
        [n, p].forEach(g.markOutput)
        return try g.build()
    }

    func samples(_ count: Int, seed: UInt64) -> [[String: Tensor]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in ["x": random.gaussian([2, 12, 24])] }
    }

    func codes(_ executor: Int8Executor, _ name: String) -> [UInt8] {
        let id = executor.graph.value(named: name)!
        return Array(UnsafeBufferPointer(start: executor.codes(id), count: executor.graph.info(id).count))
    }

    func test_integerSoftmaxAndLayerNormReplaceTheirIslandsWithinOneCode() throws {
        let graph = try blockGraph()
        let calibration = samples(6, seed: 1)
        let plan = try Calibrator.calibrate(graph: graph, recipe: QuantizationRecipe(), count: calibration.count, threads: 2) { calibration[$0] }
        var integerPlan = plan
        integerPlan.recipe.softmax = .lut
        integerPlan.recipe.layerNorm = .integer
        var softmaxOnlyPlan = plan
        softmaxOnlyPlan.recipe.softmax = .lut
        let islands = try Int8Executor(graph: graph, plan: plan, threads: 2)
        let integer = try Int8Executor(graph: graph, plan: integerPlan, threads: 2)
        let softmaxOnly = try Int8Executor(graph: graph, plan: softmaxOnlyPlan, threads: 2)
        XCTAssertEqual(islands.floatOps, ["residual", "norm", "probs"])
        XCTAssertEqual(integer.floatOps, ["residual"])
        XCTAssertEqual(softmaxOnly.floatOps, ["residual", "norm"])
        XCTAssertEqual(integer.executions[graph.nodes.firstIndex { $0.name == "norm" }!], .integer)
        let x = samples(1, seed: 99)[0]
        let a = try islands.run(x), b = try integer.run(x)
        _ = try softmaxOnly.run(x)
        // Each op on the same input codes as its island: layernorm in `integer`, softmax in `softmaxOnly`.
        for (name, executor) in [("norm", integer), ("probs", softmaxOnly)] {
            let differences = zip(codes(islands, name), codes(executor, name)).map { abs(Int($0) - Int($1)) }
            XCTAssertLessThanOrEqual(differences.max() ?? 99, 1, name)
            XCTAssertGreaterThan(Double(differences.filter { $0 == 0 }.count) / Double(differences.count), 0.8, name)
        }
        let exact = try FP32Executor(graph: graph, threads: 2).run(x)["context"]!
        let islandDB = exact.withFloats { e in a["context"]!.withFloats { QuantMetrics.sqnr(e, $0) } }
        let integerDB = exact.withFloats { e in b["context"]!.withFloats { QuantMetrics.sqnr(e, $0) } }
        print(String(format: "block: context SQNR with float islands %.1f dB, integer softmax + layernorm %.1f dB", islandDB, integerDB))
        XCTAssertGreaterThan(integerDB, 20)
        XCTAssertGreaterThan(integerDB, islandDB - 1)
    }

    /// Rows split over workers (and a single product's panels over threads) give the same codes.
    func test_threadCountDoesNotChangeIntegerResults() throws {
        var random = TestRandom(seed: 23)
        let g = GraphBuilder()
        let q = try g.input("q", shape: [130, 32]), k = try g.input("k", shape: [300, 32]), v = try g.input("v", shape: [300, 32])
        let s = try g.node(.matmul(transposeB: true, alpha: 0.4), [q, k], name: "scores")
        let p = try g.node(.softmax, [s], name: "probs")
        g.markOutput(try g.node(.matmul(transposeB: false), [p, v], name: "context"))
        let x = try g.input("x", shape: [80, 512])
        g.markOutput(try g.node(.layerNorm(epsilon: 1e-5), [x, try g.constant("gamma", random.gaussian([512])),
                                                              try g.constant("beta", random.gaussian([512], scale: 0.2))], name: "norm"))
        let graph = try g.build()
        let samples = (0..<3).map { _ in
            ["q": random.gaussian([130, 32]), "k": random.gaussian([300, 32]), "v": random.gaussian([300, 32]), "x": random.gaussian([80, 512])]
        }
        var recipe = QuantizationRecipe()
        recipe.softmaxInput = .stabilized
        recipe.layerNorm = .integer
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
        let results = try [1, 2, 3].map { threads in try Int8Executor(graph: graph, plan: plan, threads: threads).run(samples[0]) }
        XCTAssertEqual(try Int8Executor(graph: graph, plan: plan, threads: 2).executions.filter { $0 == .integer }.count, 4)
        for name in ["context", "norm"] {
            XCTAssertEqual(results[1][name]!.floats(), results[0][name]!.floats(), name)
            XCTAssertEqual(results[2][name]!.floats(), results[0][name]!.floats(), name)
        }
    }

    func test_layerNormWithComputedWeightsStaysAnIsland() throws {
        let g = GraphBuilder()
        let x = try g.input("x", shape: [3, 8]), gamma = try g.input("gamma", shape: [8])
        let beta = try g.constant("beta", Tensor(zeros: [8]))
        g.markOutput(try g.node(.layerNorm(epsilon: 1e-5), [x, gamma, beta], name: "norm"))
        let graph = try g.build()
        var recipe = QuantizationRecipe()
        recipe.layerNorm = .integer
        XCTAssertEqual(Int8Executor.execution(of: graph.nodes[0], graph: graph, recipe: recipe), .floatIsland)
    }
}

/// The recipe keys of the nonlinear ops, and the shipped recipes that use them.
final class NonlinearRecipeTests: XCTestCase {
    func decode(_ json: String) throws -> QuantizationRecipe {
        let path = (TestPaths.temporaryDirectory("recipe") as NSString).appendingPathComponent("r.json")
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return try QuantizationRecipe.load(path: path)
    }

    func test_keysDefaultsAndErrors() throws {
        let plain = try decode("{}")
        XCTAssertEqual(plain.softmaxInput, .plain)
        XCTAssertFalse(plain.integerSoftmax)
        XCTAssertEqual(plain.layerNorm, .float)
        let qans = try decode(#"{"softmax_input": "stabilized", "softmax_clip": 12, "layernorm": "integer"}"#)
        XCTAssertTrue(qans.integerSoftmax, "lut is implied by stabilized")
        XCTAssertEqual(qans.softmaxClip, 12)
        XCTAssertEqual(qans.layerNorm, .integer)
        XCTAssertFalse(try decode(#"{"softmax_input": "stabilized", "softmax": "float"}"#).integerSoftmax)
        XCTAssertTrue(try decode(#"{"softmax": "lut"}"#).integerSoftmax)
        XCTAssertEqual(try decode(#"{"weight_clip": "mse"}"#).weightClip, .mse)
        XCTAssertEqual(plain.weightClip, .max)
        XCTAssertEqual(plain.weightBits, 8)
        XCTAssertEqual(try decode(#"{"weight_bits": 7}"#).weightBits, 7)
        XCTAssertEqual(plain.graphOutputs, .quantized)
        XCTAssertEqual(try decode(#"{"graph_outputs": "float"}"#).graphOutputs, .float)
        XCTAssertEqual(plain.floatIslandInputs, .quantized)
        XCTAssertEqual(try decode(#"{"float_island_inputs": "float"}"#).floatIslandInputs, .float)
        let transformed = try decode(#"{"rotation": "klt_hadamard", "rotation_seed": 3, "smoothing": "scaled_silu"}"#)
        XCTAssertEqual(transformed.rotation, .kltHadamard)
        XCTAssertEqual(transformed.rotationSeed, 3)
        XCTAssertEqual(transformed.smoothing, .scaledSiLU)
        XCTAssertEqual(try decode(String(data: try JSONEncoder().encode(transformed), encoding: .utf8) ?? ""), transformed)
        XCTAssertNil(plain.rotation)
        XCTAssertTrue(plain.consumerClipping)
        XCTAssertFalse(try decode(#"{"consumer_clipping": false}"#).consumerClipping)
        // Round trip through a saved plan.
        let encoded = try JSONEncoder().encode(qans)
        XCTAssertEqual(try JSONDecoder().decode(QuantizationRecipe.self, from: encoded), qans)
        for (json, item) in [(#"{"softmax_input": "shifted"}"#, "softmax_input"), (#"{"softmax": "table"}"#, "softmax"),
                             (#"{"layernorm": "int"}"#, "layernorm"), (#"{"softmax_clip": 15}"#, "softmax_clip"),
                             (#"{"weight_clip": "percentile"}"#, "weight_clip"), (#"{"weight_bits": 4}"#, "weight_bits"), (#"{"softmax_output": "lazy"}"#, "softmax_output"),
                             (#"{"graph_outputs": "f32"}"#, "graph_outputs"), (#"{"consumer_clipping": "yes"}"#, "consumer_clipping"),
                             (#"{"softmax_input": "stabilized", "softmax_clip": -1}"#, "softmax_clip"),
                             (#"{"rotation": "random"}"#, "rotation"), (#"{"rotation_seed": 1}"#, "rotation_seed"),
                             (#"{"smoothing": "smooth"}"#, "smoothing"), (#"{"smoothing_alpha": 1.5}"#, "smoothing_alpha"),
                             (#"{"residual_bits": 16}"#, "residual_bits"), (#"{"residual_bits": 12, "layernorm": "integer"}"#, "residual_bits"), (#"{"float_island_inputs": "f32"}"#, "float_island_inputs")] {
            XCTAssertThrowsError(try decode(json), json) { XCTAssertTrue("\($0)".contains(": \(item):"), "\($0)") }
        }
    }

    /// The Vision Mamba ladders: each rung adds one transform to the one before, all else equal.
    func test_shippedVimRecipesFormLadders() throws {
        let directory = (TestPaths.root as NSString).appendingPathComponent("Configs/recipes")
        for prefix in ["vim-int8", "vim-qpetr-int8"] {
            let rungs = try ["naive", "hadamard", "klt-hadamard", "mambaquant"].map { try QuantizationRecipe.load(path: "\(directory)/\(prefix)-\($0).json") }
            XCTAssertEqual(rungs.map(\.rotation), [nil, .hadamard, .kltHadamard, .kltHadamard], prefix)
            XCTAssertEqual(rungs.map(\.smoothing), [nil, nil, nil, .scaledSiLU], prefix)
            for rung in rungs {
                var base = rung
                (base.rotation, base.rotationSeed, base.smoothing) = (nil, nil, nil)
                XCTAssertEqual(base, rungs[0], prefix)
                XCTAssertEqual(rung.weights, .perTensor)
                XCTAssertEqual(rung.floatIslandInputs, .float)
            }
            var perChannel = try QuantizationRecipe.load(path: "\(directory)/\(prefix)-mambaquant-per-channel.json")
            XCTAssertEqual(perChannel.weights, .perChannel)
            perChannel.weights = .perTensor
            XCTAssertEqual(perChannel, rungs[3], prefix)
        }
        var qpetr = try QuantizationRecipe.load(path: "\(directory)/qpetr-int8.json")
        qpetr.floatIslandInputs = .float
        XCTAssertEqual(try QuantizationRecipe.load(path: "\(directory)/vim-qpetr-int8-naive.json"), qpetr, "the detector's head as Q-PETR's")
    }

    func test_shippedRecipes() throws {
        let directory = (TestPaths.root as NSString).appendingPathComponent("Configs/recipes")
        let qpetr = try QuantizationRecipe.load(path: "\(directory)/qpetr-int8.json")
        XCTAssertEqual(qpetr.observer, .percentile)
        XCTAssertEqual(qpetr.percentile, 99.999)
        XCTAssertEqual(qpetr.requantization, .fixedPoint)
        XCTAssertEqual(qpetr.weights, .perTensor)
        XCTAssertFalse(qpetr.symmetricActivations)
        XCTAssertEqual(qpetr.softmaxInput, .stabilized)
        XCTAssertTrue(qpetr.integerSoftmax)
        XCTAssertEqual(qpetr.layerNorm, .integer)
        XCTAssertEqual(qpetr.softmaxOutput, .deferred)
        XCTAssertEqual(qpetr.graphOutputs, .float)
        XCTAssertTrue(qpetr.foldConstantAddends)
        let naive = try QuantizationRecipe.load(path: "\(directory)/int8-per-tensor-percentile.json")
        XCTAssertEqual(naive.observer, .percentile)
        XCTAssertEqual(naive.percentile, 99.99)
        XCTAssertEqual(naive.weights, .perTensor)
        XCTAssertEqual(naive.softmaxInput, .plain)
        XCTAssertFalse(naive.integerSoftmax)
        XCTAssertEqual(naive.layerNorm, .float)
        XCTAssertEqual(naive.softmaxOutput, .normalized)
        XCTAssertEqual(naive.graphOutputs, .quantized, "the naive baseline rounds every tensor")
        // The ViT's integer INT8 for CPUs without an int8 dot product: Q-PETR's integer ops with
        // 7-bit weights and the min-max observer ONNX Runtime's static quantization uses.
        var vit = try QuantizationRecipe.load(path: "\(directory)/vit-int8-w7.json")
        XCTAssertEqual(vit.weightBits, 7)
        XCTAssertEqual(vit.observer, .minmax)
        (vit.weightBits, vit.observer, vit.percentile) = (8, .percentile, 99.999)
        (vit.softmaxClip, vit.graphOutputs, vit.foldConstantAddends) = (15, .float, true)
        XCTAssertEqual(vit, qpetr)
    }
}
