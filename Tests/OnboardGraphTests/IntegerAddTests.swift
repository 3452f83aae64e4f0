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

    func test_constantAddMatchesTheRoundedSumWithinOneCode() throws {
        var random = TestRandom(seed: 9)
        let count = 2048
        let a = (0..<count).map { _ in UInt8(random.int(in: 0...255)) }
        let constant = random.floats(count, scale: 1.5)
        let aq = quant(0.011, 97), yq = quant(0.03, 140)
        for (negateCodes, negateConstant) in [(false, false), (false, true), (true, false)] {
            let add = try XCTUnwrap(constant.withUnsafeBufferPointer {
                DyadicConstantAdd(codes: aq, negateCodes: negateCodes, constant: $0, negateConstant: negateConstant, output: yq)
            })
            var y = [UInt8](repeating: 0, count: count)
            QuantizedElementwise.add(a, aq, constant: add, into: &y, yq, count: count, threads: 2)
            var worst = 0
            for i in 0..<count {
                let value = Double(aq.scale) * Double(Int32(a[i]) - aq.zeroPoint) * (negateCodes ? -1 : 1)
                    + Double(constant[i]) * (negateConstant ? -1 : 1)
                let reference = min(max(Int((value / Double(yq.scale)).rounded()) + Int(yq.zeroPoint), 0), 255)
                worst = max(worst, abs(reference - Int(y[i])))
            }
            XCTAssertLessThanOrEqual(worst, 1, "negate codes \(negateCodes), constant \(negateConstant)")
            XCTAssertGreaterThan(Set(y).count, 64)
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
        let graph = try g.build()
        let samples = (0..<4).map { _ in ["x": random.gaussian([12, 16])] }
        var recipe = QuantizationRecipe()
        let floatPlan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: 4, threads: 1) { samples[$0] }
        recipe.requantization = .fixedPoint
        var fixedPlan = floatPlan
        fixedPlan.recipe = recipe
        let viaFloat = try Int8Executor(graph: graph, plan: floatPlan, threads: 1)
        let viaIntegers = try Int8Executor(graph: graph, plan: fixedPlan, threads: 1)
        XCTAssertEqual(viaFloat.floatOps, ["shifted", "difference"])
        XCTAssertEqual(viaIntegers.floatOps, [])
        let input = ["x": random.gaussian([12, 16])]
        let a = try viaFloat.run(input), b = try viaIntegers.run(input)
        for name in ["shifted", "difference"] {
            let q = try XCTUnwrap(fixedPlan.activations[name])
            let worst = zip(try XCTUnwrap(a[name]).floats(), try XCTUnwrap(b[name]).floats()).map { abs($0 - $1) }.max() ?? 99
            XCTAssertLessThanOrEqual(worst, 1.001 * q.scale, name)
        }
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
