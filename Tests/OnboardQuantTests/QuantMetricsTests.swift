import OnboardQuant
import XCTest

final class QuantMetricsTests: XCTestCase {
    func test_sqnrCosineAndMSEOnKnownVectors() {
        let x: [Float] = [3, 4, 0, 0]
        let y: [Float] = [3, 4, 0.5, 0]
        XCTAssertEqual(QuantMetrics.sqnr(x, x), .infinity)
        XCTAssertEqual(QuantMetrics.sqnr(x, y), 20 * log10(5 / 0.5), accuracy: 1e-9)
        XCTAssertEqual(QuantMetrics.mse(x, y), 0.25 / 4, accuracy: 1e-12)
        XCTAssertEqual(QuantMetrics.cosine(x, y), 25 / (5 * (25.25 as Double).squareRoot()), accuracy: 1e-9)
        XCTAssertEqual(QuantMetrics.cosine(x, x.map { -2 * $0 }), -1, accuracy: 1e-12)
    }

    func test_klOfHistogramsIsZeroForEqualAndMatchesTheFormula() {
        XCTAssertEqual(QuantMetrics.kl([1, 2, 3], [2, 4, 6]), 0, accuracy: 1e-12)
        let expected = 0.5 * log(0.5 / 0.25) + 0.5 * log(0.5 / 0.75)
        XCTAssertEqual(QuantMetrics.kl([1, 1], [1, 3]), expected, accuracy: 1e-12)
        XCTAssertTrue(QuantMetrics.kl([1, 1], [1, 0]).isFinite)
    }
}
