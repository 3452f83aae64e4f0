import OnboardQuant
import OnboardTestSupport
import XCTest

/// MSE-optimal symmetric clipping of weights: never worse than max scaling, and it clips a lone outlier.
final class SymmetricClipSearchTests: XCTestCase {
    func squaredError(_ values: [Float], clip: Float) -> Double {
        let params = QuantParams.affine(min: -clip, max: clip, bits: 8, symmetric: true)
        return values.reduce(0) { $0 + Double($1 - params.fakeQuantize($1)) * Double($1 - params.fakeQuantize($1)) }
    }

    func test_clipsALoneOutlierAndBeatsMaxScaling() {
        var random = TestRandom(seed: 4)
        var values = random.floats(4096, scale: 1)
        values[17] = 40  // one outlier stretches the max scale 40-fold past the bulk
        let clip = values.withUnsafeBufferPointer { SymmetricClipSearch.mseClip($0, bits: 8) }
        let amax = values.map(\.magnitude).max() ?? 0
        XCTAssertLessThan(clip, amax)
        XCTAssertGreaterThanOrEqual(clip, amax / 2)
        XCTAssertLessThan(squaredError(values, clip: clip), squaredError(values, clip: amax))
    }

    func test_keepsTheMaxWhenNothingIsGainedAndIgnoresNonFinite() {
        // Every value a multiple of the max step: max scaling is exact, so the search keeps it.
        let exact = (0..<255).map { Float($0 - 127) / 127 * 3 }
        XCTAssertEqual(exact.withUnsafeBufferPointer { SymmetricClipSearch.mseClip($0, bits: 8) }, 3)
        XCTAssertEqual([Float.nan, .infinity, 0].withUnsafeBufferPointer { SymmetricClipSearch.mseClip($0, bits: 8) }, 0)
    }
}
