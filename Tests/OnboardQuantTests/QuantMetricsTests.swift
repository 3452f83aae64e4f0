import Foundation
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

    /// The two SQNRs an AVX2 run and an AVX-512 run gave for one tensor (one ulp apart) report as one
    /// value, which a JSON reader parses back exactly, so a report sorted by it stays sorted when read.
    func test_reportedFiguresDropTheDigitsSummationOrderLeaves() throws {
        let a = 25.29989339139425, b = 25.299893391394253
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(QuantMetrics.reported(a), 25.29989339)
        XCTAssertEqual(QuantMetrics.reported(a), QuantMetrics.reported(b))
        XCTAssertEqual(QuantMetrics.reported(-0.000123456789012345), -0.0001234567890)
        XCTAssertEqual(QuantMetrics.reported(0.99999999996), 1)
        XCTAssertEqual(QuantMetrics.reported(.infinity), .infinity)
        XCTAssertTrue(QuantMetrics.reported(.nan).isNaN)
        XCTAssertEqual(QuantMetrics.reported(0), 0)
        let values = (0..<200).map { QuantMetrics.reported(20 + Double($0) * 1.000000001e-7) }
        let json = try JSONSerialization.data(withJSONObject: values)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [Any]).compactMap { ($0 as? NSNumber)?.doubleValue }
        XCTAssertEqual(parsed, values)
    }
}
