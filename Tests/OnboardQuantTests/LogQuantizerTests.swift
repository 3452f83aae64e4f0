import Foundation
import OnboardQuant
import OnboardTestSupport
import XCTest

final class LogQuantizerTests: XCTestCase {
    func test_levelsArePowersOfTheBaseAndUnderflowGoesToZero() {
        let log2q = LogQuantizer(bits: 3, base: .two, delta: 1)
        XCTAssertEqual(log2q.fakeQuantize(1), 1)
        XCTAssertEqual(log2q.fakeQuantize(0.26), 0.25)
        XCTAssertEqual(log2q.fakeQuantize(exp2(-7)), exp2(-7))
        XCTAssertEqual(log2q.fakeQuantize(exp2(-9)), 0)  // code 9 > 7
        XCTAssertEqual(log2q.fakeQuantize(-0.5), 0)
        let sqrt2q = LogQuantizer(bits: 4, base: .sqrt2, delta: 1)
        XCTAssertEqual(sqrt2q.fakeQuantize(0.7), Float(0.5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(sqrt2q.quantize(0.5), 2)
    }

    func test_logRelativeErrorIsBoundedInsideTheRange() {
        var random = TestRandom(seed: 5)
        for base in [LogQuantizer.Base.two, .sqrt2] {
            let q = LogQuantizer(bits: 4, base: base, delta: 1)
            let ratio: Float = base == .two ? 2 : Float(2).squareRoot()
            for _ in 0..<2000 {
                let x = exp2(-10 * random.generator.nextUniform()) // inside [2^-10, 1]
                guard x >= q.dequantize(q.maxCode) else { continue }
                let relative = abs(q.fakeQuantize(x) - x) / x
                XCTAssertLessThanOrEqual(relative, (ratio - 1) / 1 + 1e-5)
                XCTAssertLessThanOrEqual(relative, ratio.squareRoot() - 1 + 1e-5)  // rounding in the log domain
            }
        }
    }

    /// Post-GELU activations: a short negative lobe down to -0.17 holding most of the mass and a long positive
    /// tail (pre-activations mostly N(0, 1) with 1% wide outliers, as fc1 outputs of a ViT). ADFQ-ViT's
    /// Shift-Log2 puts its dense levels near the minimum, where uniform levels are too coarse.
    func test_shiftLog2BeatsUniformOnGELUOutputsAtFourBits() throws {
        var random = TestRandom(seed: 7)
        let values = (0..<32768).map { _ -> Float in
            let x = random.generator.nextGaussian() * (random.generator.nextUniform() < 0.01 ? 6 : 1)
            return 0.5 * x * (1 + erf(x / Float(2).squareRoot()))
        }
        let shiftLog = ShiftLogQuantizer(bits: 4).fakeQuantize(values)
        let uniform = try UniformQuantizer(bits: 4, symmetric: false, granularity: .perTensor).fakeQuantize(values, shape: [values.count])
        let logMSE = QuantMetrics.mse(values, shiftLog), uniformMSE = QuantMetrics.mse(values, uniform)
        print("Shift-Log2 4-bit MSE \(logMSE) vs uniform \(uniformMSE)")
        XCTAssertLessThan(logMSE, uniformMSE * 0.3)
    }

    /// The static Shift-Log2 parameters a streaming histogram gives: the shift at the observed minimum,
    /// and the delta whose log quantizer is as good as the one searched on the raw values.
    func test_histogramShiftLogParametersMatchTheSearchOnRawValues() throws {
        var random = TestRandom(seed: 11)
        let values = (0..<32768).map { _ -> Float in
            let x = random.generator.nextGaussian() * (random.generator.nextUniform() < 0.01 ? 6 : 1)
            return 0.5 * x * (1 + erf(x / Float(2).squareRoot()))
        }
        var observer = QuantileObserver(item: "gelu", options: ObserverOptions())
        try observer.observe(values)
        let (shift, delta) = try observer.shiftLogParameters(bits: 4)
        XCTAssertEqual(shift, values.min()! - ShiftLogQuantizer.epsilon, accuracy: 1e-6)
        let log = LogQuantizer(bits: 4, base: .sqrt2, delta: delta)
        let static4 = values.map { log.fakeQuantize($0 - shift) + shift }
        let dynamic4 = ShiftLogQuantizer(bits: 4).fakeQuantize(values)
        XCTAssertLessThan(QuantMetrics.mse(values, static4), 1.05 * QuantMetrics.mse(values, dynamic4))
    }
}
