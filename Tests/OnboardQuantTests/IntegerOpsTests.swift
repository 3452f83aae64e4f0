import Foundation
import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class IntegerOpsTests: XCTestCase {
    func test_diMatMulMatchesTheFloatProductWithinOneStep() throws {
        var random = TestRandom(seed: 1)
        let rows = 12, inner = 48, cols = 20
        let s1 = Dyadic.approximate(0.013), s2 = Dyadic.approximate(0.0021)
        let x1 = DyadicQuantized(codes: (0..<(rows * inner)).map { _ in Int32(random.int(in: 0...255)) }, zeroPoint: 121, scale: s1)
        let x2 = DyadicQuantized(codes: (0..<(inner * cols)).map { _ in Int32(random.int(in: -127...127)) }, zeroPoint: 0, scale: s2)
        let out = try DIMatMul.multiply(x1, x2, rows: rows, inner: inner, cols: cols)
        let y = out.dequantized(cols: cols)
        var worstSteps = 0.0
        for r in 0..<rows {
            for c in 0..<cols {
                var p = 0.0
                for k in 0..<inner { p += Double(x1.codes[r * inner + k] - 121) * Double(x2.codes[k * cols + c]) }
                let reference = p * s1.value * s2.value
                let step = out.scales[r].value
                XCTAssertTrue((0...255).contains(out.codes[r * cols + c]))
                let error = abs(Double(y[r * cols + c]) - reference)
                XCTAssertLessThanOrEqual(error, step + abs(reference) * pow(2, -13))
                worstSteps = max(worstSteps, error / step)
            }
        }
        print("DI-MatMul worst error \(worstSteps) output steps")
        XCTAssertThrowsError(try DIMatMul.multiply(x1, x2, rows: rows, inner: inner + 1, cols: cols))
    }

    func test_diExpIsWithinItsBoundOverTheWholeInputRange() {
        for scale in [0.001, 0.03125, 0.117] {
            let exp = DIExp(inputScale: Dyadic.approximate(scale))
            var worst = 0.0
            for code in stride(from: Int32(0), through: Int32(-min(32767, Int(40 / scale))), by: -1) {
                let value = Double(exp.exp(code)) / Double(1 << DIExp.fractionBits)
                worst = max(worst, abs(value - Foundation.exp(Double(code) * scale)))
            }
            print("DI-Exp scale \(scale): max error \(worst) (bound \(DIExp.errorBound))")
            XCTAssertLessThanOrEqual(worst, DIExp.errorBound)
        }
    }

    func test_diClippedSoftmaxIsWithinItsBound() throws {
        var random = TestRandom(seed: 2)
        let scale = Dyadic.approximate(0.05)
        let softmax = try DIClippedSoftmax(inputScale: scale)
        let width = 64
        let codes = (0..<(width * 40)).map { i -> Int32 in
            // Rows from nearly flat to very peaked, codes over the full int16-ish range.
            Int32(Float(random.generator.nextGaussian()) * Float(1 + (i / width) * 20))
        }
        let out = try softmax(codes, width: width)
        var worst = 0.0
        for start in stride(from: 0, to: codes.count, by: width) {
            let x = codes[start..<(start + width)].map { Double($0) * scale.value }
            let top = x.max()!
            let e = x.map { Foundation.exp($0 - top) }, sum = e.reduce(0, +)
            for j in 0..<width {
                worst = max(worst, abs(Double(out[start + j]) * softmax.outputScale - e[j] / sum))
            }
        }
        // Half an output step plus the exp error relative to the row (about 2 x 0.2% of the largest p).
        let bound = 0.5 / 255 + 0.004
        print("DI-ClippedSoftmax max error \(worst) (bound \(bound))")
        XCTAssertLessThanOrEqual(worst, bound)
    }

    func test_diNormMatchesFloatLayerNormAndRMSNormWithinOneStep() throws {
        var random = TestRandom(seed: 3)
        let n = 96, inputScale = 0.04
        let gamma = random.floats(n).map { 1 + 0.3 * $0 }, beta = random.floats(n, scale: 0.2)
        let output = QuantParams.affine(min: -6, max: 6, bits: 8, symmetric: false)
        let codes = (0..<(n * 16)).map { i in Int32(max(-127, min(127, Float(random.generator.nextGaussian()) * Float(5 + i / n * 6) + Float(i / n) - 3))) }
        for kind in [DINorm.Kind.layerNorm, .rmsNorm] {
            let norm = try DINorm(kind: kind, gamma: gamma, beta: beta, epsilon: 1e-5, inputScale: inputScale, output: output)
            let out = try norm(codes)
            var worst: Float = 0
            for start in stride(from: 0, to: codes.count, by: n) {
                let x = codes[start..<(start + n)].map { Double($0) * inputScale }
                let mean = kind == .layerNorm ? x.reduce(0, +) / Double(n) : 0
                let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
                for j in 0..<n {
                    let y = (x[j] - mean) / (variance + 1e-5).squareRoot() * Double(gamma[j]) + (kind == .layerNorm ? Double(beta[j]) : 0)
                    let reference = output.fakeQuantize(Float(y))
                    worst = max(worst, abs(output.dequantize(out[start + j]) - reference) / output.scale)
                }
            }
            print("DI-Norm \(kind): max error \(worst) output steps")
            XCTAssertLessThanOrEqual(worst, 1)
        }
    }

    func test_dulutIsWithinItsMeasuredBoundAndBeatsAUniformTableOfTheSameSize() throws {
        // (name, f, input range, required DuLUT / uniform max-error ratio)
        let functions: [(String, @Sendable (Double) -> Double, Float, Double)] = [
            ("gelu", { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, 8, 0.5),
            ("silu", { $0 / (1 + Foundation.exp(-$0)) }, 8, 0.5),
            ("sigmoid", { 1 / (1 + Foundation.exp(-$0)) }, 8, 1),
            ("exp", { Foundation.exp(min($0, 0)) }, 8, 0.75),  // softmax's exp of x - max(x) <= 0
        ]
        for (name, f, range, ratio) in functions {
            let inputScale = range / 128, outputScale: Float = name == "exp" || name == "sigmoid" ? 1.0 / 16384 : 8.0 / 16384
            let lut = try DuLUT(f, inputBits: 8, inputScale: inputScale, outputScale: outputScale, coarseSegments: 8, points: 24)
            let uniform = try DuLUT.uniform(f, inputBits: 8, inputScale: inputScale, outputScale: outputScale, entries: lut.entryCount)
            XCTAssertEqual(uniform.entryCount, lut.entryCount)
            var worst = 0.0
            for code in Int32(-128)...Int32(127) {
                worst = max(worst, abs(Double(lut(code)) * Double(outputScale) - f(Double(code) * Double(inputScale))))
            }
            print("DuLUT \(name): \(lut.entryCount) entries, max error \(worst); uniform table \(uniform.entryCount) entries \(uniform.maxError)")
            XCTAssertEqual(worst, lut.maxError, accuracy: 1e-9)
            XCTAssertLessThan(lut.maxError, uniform.maxError * ratio, name)
        }
        // 16-bit input: every code checked.
        let gelu: @Sendable (Double) -> Double = { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
        let wide = try DuLUT(gelu, inputBits: 12, inputScale: 8.0 / 2048, outputScale: 1.0 / 1024, coarseSegments: 16, points: 64)
        XCTAssertLessThan(wide.maxError, 0.005)
        XCTAssertThrowsError(try DuLUT(gelu, inputBits: 8, inputScale: 1, outputScale: 1, coarseSegments: 3, points: 40))
    }

    func test_extremeInputsAreErrorsOrSaturateWithoutTrapping() throws {
        XCTAssertEqual(DIExp(inputScale: Dyadic.approximate(0.01)).exp(.min), 0)
        XCTAssertEqual(DIExp(inputScale: Dyadic.approximate(0.01)).exp(5), 1 << DIExp.fractionBits)  // x > 0 clamps to 0
        let tiny = try DIClippedSoftmax(inputScale: Dyadic.approximate(1e-30))
        XCTAssertEqual(try tiny([.min, .max], width: 2), [128, 128])  // 2^32 codes of 1e-30 are no difference
        XCTAssertEqual(try DIClippedSoftmax(inputScale: Dyadic.approximate(1))([.min, .max], width: 2), [0, 255])
        XCTAssertThrowsError(try DIClippedSoftmax(inputScale: Dyadic.approximate(0.1), clip: .nan))
        XCTAssertThrowsError(try tiny([1, 2, 3], width: 2))
        let wide = DyadicQuantized(codes: [70000, 1], zeroPoint: 0, scale: Dyadic.approximate(0.1))
        XCTAssertThrowsError(try DIMatMul.multiply(wide, wide, rows: 1, inner: 2, cols: 1))
        XCTAssertThrowsError(try DuLUT({ _ in .nan }, inputBits: 8, inputScale: 0.1, outputScale: 0.1, coarseSegments: 4, points: 16))
        XCTAssertThrowsError(try DINorm(kind: .layerNorm, gamma: [1, .nan], beta: nil, epsilon: 1e-5, inputScale: 1,
                                        output: .affine(min: -1, max: 1, bits: 8, symmetric: true)))
        // 16-bit codes over 1024 channels take DI-Norm's pre-shift path and stay within one step.
        var random = TestRandom(seed: 8)
        let n = 1024
        let codes = (0..<n).map { _ in Int32(max(-32767, min(32767, random.generator.nextGaussian() * 12000 + 3000))) }
        let output = QuantParams.affine(min: -4, max: 4, bits: 8, symmetric: true)
        let norm = try DINorm(kind: .layerNorm, gamma: [Float](repeating: 1, count: n), beta: nil, epsilon: 1e-5, inputScale: 1e-3, output: output)
        let out = try norm(codes)
        let x = codes.map { Double($0) }, mean = x.reduce(0, +) / Double(n)
        let std = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot()
        for j in 0..<n {
            XCTAssertLessThanOrEqual(abs(Double(out[j]) - Double(output.quantize(Float((x[j] - mean) / std)))), 1)
        }
    }
}
