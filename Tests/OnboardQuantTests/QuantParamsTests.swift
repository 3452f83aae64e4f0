import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class QuantParamsTests: XCTestCase {
    func test_codeRangesFollowTheDocumentedConvention() {
        let sym = QuantParams.affine(min: -1, max: 1, bits: 8, symmetric: true)
        XCTAssertEqual(sym.qmin, -127)
        XCTAssertEqual(sym.qmax, 127)
        XCTAssertEqual(sym.zeroPoint, 0)
        let asym = QuantParams.affine(min: -1, max: 3, bits: 4, symmetric: false)
        XCTAssertEqual(asym.qmin, 0)
        XCTAssertEqual(asym.qmax, 15)
        XCTAssertEqual(asym.scale, 4.0 / 15, accuracy: 1e-7)
        XCTAssertEqual(asym.zeroPoint, 4)  // round(1 / (4/15)) = round(3.75)
    }

    func test_rangeAlwaysIncludesZeroAndScaleIsPositive() {
        let positive = QuantParams.affine(min: 2, max: 6, bits: 8, symmetric: false)
        XCTAssertEqual(positive.zeroPoint, 0)
        XCTAssertEqual(positive.dequantize(positive.quantize(0)), 0)
        XCTAssertEqual(positive.scale, 6.0 / 255, accuracy: 1e-7)
        for symmetric in [true, false] {
            let constant = QuantParams.affine(min: 0, max: 0, bits: 8, symmetric: symmetric)
            XCTAssertGreaterThan(constant.scale, 0)
            XCTAssertEqual(constant.fakeQuantize(0), 0)
            let weird = QuantParams.affine(min: -.infinity, max: .nan, bits: 8, symmetric: symmetric)
            XCTAssertTrue(weird.scale.isFinite && weird.scale > 0)
        }
    }

    func test_roundingErrorIsAtMostHalfAStepInsideTheRange() {
        var random = TestRandom(seed: 11)
        for bits in 2...8 {
            for symmetric in [true, false] {
                let params = QuantParams.affine(min: -1.3, max: 2.1, bits: bits, symmetric: symmetric)
                let (lo, hi) = params.representableRange
                for _ in 0..<2000 {
                    let x = lo + (hi - lo) * random.generator.nextUniform()
                    XCTAssertLessThanOrEqual(abs(params.fakeQuantize(x) - x), params.scale / 2 * (1 + 1e-5),
                                             "bits \(bits) symmetric \(symmetric) x \(x)")
                }
                XCTAssertEqual(params.quantize(1e9), params.qmax)
                XCTAssertEqual(params.quantize(-1e9), params.qmin)
                XCTAssertEqual(params.quantize(.nan), params.qmin)
            }
        }
    }
}
