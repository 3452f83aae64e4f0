import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class HadamardTests: XCTestCase {
    func test_hadamardIsOrthogonalForPowersOfTwoAndQuaRotFactors() throws {
        for n in [1, 2, 4, 64, 256, 12, 20 * 2, 28 * 4, 36, 40 * 2, 52, 60, 108, 140 * 2, 156, 156 * 2, 172, 172 * 2, 24, 192] {
            let h = try Hadamard(size: n)
            XCTAssertLessThan(try h.matrix.orthogonalityError(), 2e-5, "n = \(n) (K = \(h.factor))")
            let m = h.matrix
            let entry = 1 / Float(n).squareRoot()
            XCTAssertTrue(m.values.allSatisfy { abs(abs($0) - entry) < 1e-5 }, "n = \(n): entries must be ±1/sqrt(n)")
        }
        XCTAssertEqual(try Hadamard(size: 28 * 8).factor, 28)
        XCTAssertEqual(try Hadamard(size: 156 * 4).factor, 156)
        XCTAssertEqual(try Hadamard(size: 172 * 4).factor, 172)
        XCTAssertThrowsError(try Hadamard(size: 4 * 47 * 2))  // 188 = 4·47: no construction here
        XCTAssertThrowsError(try Hadamard(size: 0))
    }

    func test_inPlaceTransformMatchesTheMatrixAndTransposeInverts() throws {
        var random = TestRandom(seed: 9)
        for n in [128, 48, 80] {
            let h = try Hadamard(size: n)
            let x = random.matrix(3, n)
            var fast = x.values
            try h.applyRows(&fast)
            let dense = try x.multiplied(by: h.matrix)
            XCTAssertLessThan(maxErrors(fast, dense.values).error, 1e-5)
            try h.applyRows(&fast, transpose: true)
            XCTAssertLessThan(maxErrors(fast, x.values).error, 1e-5)
        }
    }

    func test_randomHadamardIsOrthogonalAndSeeded() throws {
        let a = try RandomHadamard(size: 96, seed: 1), b = try RandomHadamard(size: 96, seed: 1), c = try RandomHadamard(size: 96, seed: 2)
        XCTAssertLessThan(try a.matrix.orthogonalityError(), 2e-5)
        XCTAssertEqual(a.signs, b.signs)
        XCTAssertNotEqual(a.signs, c.signs)
        var random = TestRandom(seed: 2)
        var x = random.floats(96 * 2)
        let original = x
        try a.applyRows(&x)
        try a.applyRows(&x, transpose: true)
        XCTAssertLessThan(maxErrors(x, original).error, 1e-5)
    }
}
