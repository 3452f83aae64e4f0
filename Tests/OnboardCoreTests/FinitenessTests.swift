import OnboardCore
import XCTest

final class FinitenessTests: XCTestCase {
    func test_firstNonFiniteIndexFindsNaNAndInfinities() throws {
        XCTAssertNil([Float]([1, -2, 0]).firstNonFiniteIndex)
        XCTAssertEqual([Float]([1, .nan, .infinity]).firstNonFiniteIndex, 1)
        XCTAssertEqual([Double]([1, 2, -.infinity]).firstNonFiniteIndex, 2)
        XCTAssertEqual(try Tensor(shape: [2, 2], values: [0, 1, 2, .nan]).firstNonFiniteIndex, 3)
        XCTAssertNil(Tensor(zeros: [3]).firstNonFiniteIndex)
    }

    func test_allFiniteIsTrueOnlyWithoutNaNOrInfinity() {
        XCTAssertTrue([Double]().allFinite)
        XCTAssertTrue([Float]([1, .greatestFiniteMagnitude]).allFinite)
        XCTAssertFalse([Double]([1, .nan]).allFinite)
        XCTAssertFalse([Float]([1, 2, .infinity]).prefix(3).allFinite)
    }
}
