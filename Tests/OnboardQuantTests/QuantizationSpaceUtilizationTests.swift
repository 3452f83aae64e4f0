import OnboardCore
import OnboardQuant
import XCTest

final class QuantizationSpaceUtilizationTests: XCTestCase {
    /// Variances 4 and 1 over ranges [-4, 4] and [-1, 1]: per dimension
    /// (√4·√1)^(1/2) / 8 = √2 / 8; divided by s = (2, 1) the covariance is the identity over [-2, 2].
    func testDiagonalGaussianBeforeAndAfterSmoothing() throws {
        let covariance = try Matrix(rows: 2, cols: 2, values: [4, 0, 0, 1])
        let before = try QuantizationSpaceUtilization.perDimension(covariance: covariance, minimum: [-4, -1], maximum: [4, 1])
        XCTAssertEqual(before, 2.0.squareRoot() / 8, accuracy: 1e-6)
        let after = try QuantizationSpaceUtilization.perDimension(covariance: covariance, minimum: [-4, -1], maximum: [4, 1], scale: [2, 1])
        XCTAssertEqual(after, 0.25, accuracy: 1e-6)
    }

    func testARotationDoesNotChangeTheEllipsoid() throws {
        // The same variances along the diagonals: det is unchanged, so only the range matters.
        let rotated = try Matrix(rows: 2, cols: 2, values: [2.5, 1.5, 1.5, 2.5])
        let value = try QuantizationSpaceUtilization.perDimension(covariance: rotated, minimum: [-3, -3], maximum: [3, 3])
        XCTAssertEqual(value, 2.0.squareRoot() / 6, accuracy: 1e-6)
        XCTAssertThrowsError(try QuantizationSpaceUtilization.perDimension(covariance: rotated, minimum: [0], maximum: [1]))
    }
}
