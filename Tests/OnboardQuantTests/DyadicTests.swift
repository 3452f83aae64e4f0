import OnboardQuant
import OnboardTestSupport
import XCTest

final class DyadicTests: XCTestCase {
    func test_approximationHasAThirtyOneBitMultiplierAndBoundedError() {
        var random = TestRandom(seed: 3)
        for _ in 0..<2000 {
            let exponent = Double(random.int(in: -40...20))
            let value = Double(random.generator.nextUniform() + 0.01) * pow(2, exponent) * (random.int(in: 0...1) == 0 ? 1 : -1)
            let d = Dyadic.approximate(value)
            XCTAssertGreaterThanOrEqual(abs(Int64(d.multiplier)), 1 << 30)
            XCTAssertLessThan(abs(Int64(d.multiplier)), 1 << 31)
            XCTAssertLessThanOrEqual(abs(d.value - value) / abs(value), pow(2, -31) * 1.0001)
        }
        XCTAssertEqual(Dyadic.approximate(0), Dyadic(multiplier: 0, shift: 0))
        XCTAssertEqual(Dyadic.approximate(.nan), Dyadic(multiplier: 0, shift: 0))
        XCTAssertEqual(Dyadic.approximate(1).value, 1)
    }

    func test_narrowMultipliersHaveTheirStatedBound() {
        for bits in [8, 16] {
            for value in stride(from: 0.001, to: 10.0, by: 0.0137) {
                let d = Dyadic.approximate(value, bits: bits)
                XCTAssertLessThan(Int(d.multiplier), 1 << bits)
                XCTAssertGreaterThanOrEqual(Int(d.multiplier), 1 << (bits - 1))
                XCTAssertLessThanOrEqual(abs(d.value - value) / value, pow(2, -Double(bits)))
            }
        }
    }

    func test_integerApplicationMatchesRoundedProduct() {
        var random = TestRandom(seed: 4)
        for _ in 0..<5000 {
            let scale = Double(random.generator.nextUniform()) * 0.01 + 1e-5
            let d = Dyadic.approximate(scale)
            let x = Int32(random.int(in: -2_000_000...2_000_000))
            let exact = Double(x) * scale
            XCTAssertLessThanOrEqual(abs(Double(d.apply(x)) - exact), 0.5 + abs(exact) * pow(2, -30))
        }
        XCTAssertEqual(Dyadic.approximate(1e12).apply(1 << 30), Int32.max)  // saturates
    }
}
