import CKernels
@testable import OnboardGraph
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
