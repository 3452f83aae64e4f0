import CKernels
import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// The integer-only add/sub of two code tensors against the float add kernel it replaces.
final class IntegerAddTests: XCTestCase {
    func quant(_ scale: Float, _ zeroPoint: Int32) -> ActivationQuant { ActivationQuant(scale: scale, zeroPoint: zeroPoint) }

    func test_dyadicAddMatchesTheFloatAddWithinOneCode() throws {
        var random = TestRandom(seed: 4)
        let count = 4096
        let a = (0..<count).map { _ in UInt8(random.int(in: 0...255)) }, b = (0..<count).map { _ in UInt8(random.int(in: 0...255)) }
        // Output steps finer, equal and coarser than the inputs', residual-stream-like and odd.
        let cases: [(ActivationQuant, ActivationQuant, ActivationQuant)] = [
            (quant(0.02, 120), quant(0.013, 7), quant(0.031, 131)),
            (quant(0.5, 128), quant(0.5, 128), quant(0.5, 128)),
            (quant(0.003, 0), quant(0.09, 255), quant(0.1, 60)),
            (quant(1.7e-4, 30), quant(2.9e-3, 200), quant(4.1e-3, 101)),
        ]
        for (aq, bq, yq) in cases {
            for subtract in [false, true] {
                var exact = [UInt8](repeating: 0, count: count), integer = exact
                QuantizedElementwise.add(a, aq, b, bq, subtract: subtract, into: &exact, yq, count: count, threads: 2)
                let multipliers = try XCTUnwrap(DyadicAdd(a: aq, b: bq, subtract: subtract, output: yq))
                QuantizedElementwise.add(a, aq, b, bq, into: &integer, yq, count: count, multipliers: multipliers, threads: 2)
                let differences = zip(exact, integer).map { abs(Int($0) - Int($1)) }
                XCTAssertLessThanOrEqual(differences.max() ?? 99, 1, "\(aq) \(bq) \(yq) subtract \(subtract)")
                // Off by one only on (near-)ties, where the float path rounds half to even.
                XCTAssertLessThan(differences.filter { $0 != 0 }.count, count / 100, "\(aq) \(bq) \(yq)")
                XCTAssertGreaterThan(Set(integer).count, 16, "the outputs span the code range")
            }
        }
    }

    /// Runs the integer constant add over `a` (the constant repeating when shorter) and returns its
    /// codes with their largest distance to the exactly rounded sum.
    func constantAdd(_ a: [UInt8], _ aq: ActivationQuant, constant: [Float], negateCodes: Bool = false,
                     negateConstant: Bool = false, output yq: ActivationQuant) throws -> (codes: [UInt8], worst: Int) {
        let add = try XCTUnwrap(constant.withUnsafeBufferPointer {
            DyadicConstantAdd(codes: aq, negateCodes: negateCodes, constant: $0, negateConstant: negateConstant, output: yq)
        })
        var y = [UInt8](repeating: 0, count: a.count)
        QuantizedElementwise.add(a, aq, constant: add, into: &y, yq, count: a.count, threads: 2)
        var worst = 0
        for i in a.indices {
            let value = Double(aq.scale) * Double(Int32(a[i]) - aq.zeroPoint) * (negateCodes ? -1 : 1)
                + Double(constant[i % constant.count]) * (negateConstant ? -1 : 1)
            let reference = min(max(Int((value / Double(yq.scale)).rounded()) + Int(yq.zeroPoint), 0), 255)
            worst = max(worst, abs(reference - Int(y[i])))
        }
        return (y, worst)
    }

    func test_constantAddMatchesTheRoundedSumWithinOneCode() throws {
        var random = TestRandom(seed: 9)
        let a = (0..<2048).map { _ in UInt8(random.int(in: 0...255)) }
        let constant = random.floats(a.count, scale: 1.5)
        for (negateCodes, negateConstant) in [(false, false), (false, true), (true, false)] {
            let (y, worst) = try constantAdd(a, quant(0.011, 97), constant: constant, negateCodes: negateCodes,
                                             negateConstant: negateConstant, output: quant(0.03, 140))
            XCTAssertLessThanOrEqual(worst, 1, "negate codes \(negateCodes), constant \(negateConstant)")
            XCTAssertGreaterThan(Set(y).count, 64)
        }
    }

    /// A constant shorter than the codes repeats over them; ranges split by the threads cut its period.
    func test_broadcastConstantAddRepeatsTheConstant() throws {
        var random = TestRandom(seed: 12)
        let a = (0..<(48 * 1001)).map { _ in UInt8(random.int(in: 0...255)) }
        let (y, worst) = try constantAdd(a, quant(0.02, 131), constant: random.floats(48, scale: 2), output: quant(0.035, 120))
        XCTAssertLessThanOrEqual(worst, 1)
        XCTAssertGreaterThan(Set(y).count, 64)
    }

    /// A position embedding [1, tokens, dim] added to codes [cameras, tokens, dim] runs in integers.
    func test_fixedPointExecutorBroadcastsAConstantOverLeadingDimensions() throws {
        var random = TestRandom(seed: 5)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [6, 10, 16])
        let h = try g.node(.linear, [x, try g.constant("fc.weight", random.gaussian([16, 16], scale: 0.3))], name: "fc")
        g.markOutput(try g.node(.add, [h, try g.constant("pos", random.gaussian([1, 10, 16], scale: 2))], name: "embedded"))
        let (viaFloat, viaIntegers) = try floatAndFixedPointExecutors(try g.build(), input: [6, 10, 16], random: &random)
        XCTAssertEqual(viaFloat.floatOps, ["embedded"])
        XCTAssertEqual(viaIntegers.floatOps, [])
        try assertWithinOneStep(viaFloat, viaIntegers, outputs: ["embedded"], input: ["x": random.gaussian([6, 10, 16])])
    }

    /// Two executors of one calibration of `graph` (input "x"): float and fixed-point requantization.
    func floatAndFixedPointExecutors(_ graph: Graph, input shape: [Int], random: inout TestRandom)
        throws -> (viaFloat: Int8Executor, viaIntegers: Int8Executor) {
        let samples = (0..<4).map { _ in ["x": random.gaussian(shape)] }
        var recipe = QuantizationRecipe()
        let floatPlan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: 4, threads: 1) { samples[$0] }
        recipe.requantization = .fixedPoint
        var fixedPlan = floatPlan
        fixedPlan.recipe = recipe
        return (try Int8Executor(graph: graph, plan: floatPlan, threads: 2), try Int8Executor(graph: graph, plan: fixedPlan, threads: 2))
    }

    func assertWithinOneStep(_ a: Int8Executor, _ b: Int8Executor, outputs: [String], input: [String: Tensor]) throws {
        let ya = try a.run(input), yb = try b.run(input)
        for name in outputs {
            let q = try XCTUnwrap(b.plan.activations[name])
            let worst = zip(try XCTUnwrap(ya[name]).floats(), try XCTUnwrap(yb[name]).floats()).map { abs($0 - $1) }.max() ?? 99
            XCTAssertLessThanOrEqual(worst, 1.001 * q.scale, name)
        }
    }

    /// x -> linear -> + constant (like a fixed position embedding) -> - x.
    func test_fixedPointExecutorRunsAddsOfCodesAndConstantsInIntegers() throws {
        var random = TestRandom(seed: 2)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [12, 16])
        let h = try g.node(.linear, [x, try g.constant("fc.weight", random.gaussian([16, 16], scale: 0.3))], name: "fc")
        let shifted = try g.node(.add, [try g.constant("pos", random.gaussian([12, 16], scale: 2)), h], name: "shifted")
        g.markOutput(try g.node(.sub, [shifted, x], name: "difference"))
        g.markOutput(shifted)
        let (viaFloat, viaIntegers) = try floatAndFixedPointExecutors(try g.build(), input: [12, 16], random: &random)
        XCTAssertEqual(viaFloat.floatOps, ["shifted", "difference"])
        XCTAssertEqual(viaIntegers.floatOps, [])
        try assertWithinOneStep(viaFloat, viaIntegers, outputs: ["shifted", "difference"], input: ["x": random.gaussian([12, 16])])
    }

    func test_multipliersKeepThirtyBitsOfTheLargerRatio() throws {
        let m = try XCTUnwrap(DyadicAdd(a: quant(0.02, 0), b: quant(0.005, 0), subtract: true, output: quant(0.03, 0)))
        XCTAssertTrue((1 << 29)..<(1 << 30) ~= Int(m.a))
        XCTAssertEqual(Double(m.a) / Double(1 << Int(m.shift)), 0.02 / 0.03, accuracy: 1e-8)
        XCTAssertEqual(Double(m.b) / Double(1 << Int(m.shift)), -0.005 / 0.03, accuracy: 1e-8)
    }

    func test_ratiosNoShiftCanHoldAreRefused() {
        XCTAssertNil(DyadicAdd(a: quant(1e9, 0), b: quant(1, 0), subtract: false, output: quant(1e-3, 0)))
        XCTAssertNil(DyadicAdd(a: quant(1e-20, 0), b: quant(1e-20, 0), subtract: false, output: quant(1, 0)))
    }
}
