import CKernels
import Foundation
import OnboardCore
import XCTest

/// The QANS epilogue and the integer softmax and layernorm row kernels: the reference equals the
/// documented formula (`Q8RowsOracle`) on every CPU, and every kernel of their lists this CPU has
/// equals the reference bit for bit.
final class Q8RowsTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    /// Rows of random codes, then the edge rows: all 255, all 0, one 255 among 0s, three nearby codes.
    func rows(width: Int, random: inout SplitMix64) -> [UInt8] {
        var codes = (0..<(3 * width)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        codes += Array(repeating: 255, count: width) + Array(repeating: 0, count: width)
        codes += (0..<width).map { $0 == width / 2 ? 255 : 0 }
        codes += (0..<width).map { _ in UInt8(100 + random.next() % 3) }
        return codes
    }

    func stabilized(_ sums: [Int32], width: Int, multiplier: Int32, shift: Int32, zeroPoint: Int32, qmin: Int32, qmax: Int32) -> [UInt8] {
        var out = [UInt8](repeating: 0xAB, count: sums.count)
        onboard_q8_stabilize_rows_s32(sums, sums.count / width, width, 0.01, multiplier, shift, &out, zeroPoint, qmin, qmax)
        return out
    }

    func test_stabilizedRowsMatchTheReference() throws {
        let kernels = Kernel.runnable("q8_stabilize_rows_s32")
        var random = SplitMix64(seed: 41)
        for width in [1, 7, 15, 16, 17, 160, 200, 960, 1001] {
            // Logit sums as attention produces them, then rows spanning all of int32 (raised to 2^30
            // below their max), a row of equal sums and one with a single outlier.
            var sums = (0..<(3 * width)).map { _ in Int32(truncatingIfNeeded: random.next() % (1 << 21)) - (1 << 20) }
            sums += (0..<(2 * width)).map { _ in Int32(truncatingIfNeeded: random.next()) }
            sums += Array(repeating: -7, count: width)
            sums += (0..<width).map { $0 == width / 3 ? Int32.max : Int32.min }
            // Dyadic multipliers in [2^30, 2^31) with shifts 0...31, a negative shift (acts as 0) and a negative
            // multiplier (left to the reference); zero points of QANS (255) and others.
            for (multiplier, shift, zeroPoint, qmin, qmax): (Int32, Int32, Int32, Int32, Int32) in
                [(1 << 30, 0, 255, 0, 255), (Int32.max, 7, 255, 0, 255), (1_518_500_250, 13, 255, 0, 255),
                 (1_100_000_001, 20, 128, 1, 254), (1 << 30, 1, 0, 0, 255), (Int32.max, 31, 255, 0, 255),
                 (1_300_000_000, -2, 255, 0, 255), (-1_300_000_000, 5, 255, 0, 255)] {
                onboard_isa_set_cap(0)
                let expected = stabilized(sums, width: width, multiplier: multiplier, shift: shift, zeroPoint: zeroPoint, qmin: qmin, qmax: qmax)
                XCTAssertEqual(expected, Q8RowsOracle.stabilize(sums, width: width, ascending: true, multiplier: multiplier, shift: shift,
                                                                zeroPoint: zeroPoint, qmin: qmin, qmax: qmax),
                               "reference width \(width) multiplier \(multiplier) shift \(shift)")
                for kernel in kernels {
                    kernel.cap()
                    let got = stabilized(sums, width: width, multiplier: multiplier, shift: shift, zeroPoint: zeroPoint, qmin: qmin, qmax: qmax)
                    XCTAssertEqual(got, expected, "\(kernel.name) width \(width) multiplier \(multiplier) shift \(shift)")
                }
            }
        }
    }

    /// The exp table (2^20 fixed point) and the normalization's numerator and shift for an output scale.
    func softmaxConstants(inputScale: Double, outputScale: Double) -> (table: [Int32], numerator: Int64, shift: Int32) {
        let table = (0...255).map { Int32((exp(-inputScale * Double($0)) * 1_048_576).rounded()) }
        let inverse = 1 / outputScale
        let shift = 61 - max(Int(inverse.exponent) + 1, 0)
        return (table, Int64((inverse * Double(sign: .plus, exponent: shift, significand: 1)).rounded()), Int32(shift))
    }

    func softmax(_ codes: [UInt8], width: Int, inputScale: Double, outputScale: Double, zeroPoint: Int32, qmin: Int32) -> [UInt8] {
        let constants = softmaxConstants(inputScale: inputScale, outputScale: outputScale)
        var out = [UInt8](repeating: 0xAB, count: codes.count)
        onboard_q8_softmax_lut_rows(codes, &out, codes.count / width, width, constants.table, constants.numerator, constants.shift,
                                    zeroPoint, qmin, 255)
        return out
    }

    func test_softmaxRowsMatchTheReference() throws {
        let kernels = Kernel.runnable("q8_softmax_lut_rows")
        var random = SplitMix64(seed: 17)
        for width in [1, 7, 15, 16, 17, 63, 64, 65, 160, 257, 1000, 40_000] {
            let codes = rows(width: width, random: &random)
            for (scale, outputScale, zeroPoint, qmin) in [(0.06, 1.0 / 255, Int32(0), Int32(0)), (0.5, 0.3 / 255, 0, 0),
                                                          (0.002, 0.004, 128, 1)] {
                onboard_isa_set_cap(0)
                let expected = softmax(codes, width: width, inputScale: scale, outputScale: outputScale, zeroPoint: zeroPoint, qmin: qmin)
                let constants = softmaxConstants(inputScale: scale, outputScale: outputScale)
                XCTAssertEqual(expected, Q8RowsOracle.softmax(codes, width: width, table: constants.table, numerator: constants.numerator,
                                                              shift: constants.shift, zeroPoint: zeroPoint, qmin: qmin, qmax: 255),
                               "reference width \(width) scale \(scale)")
                for kernel in kernels {
                    kernel.cap()
                    let got = softmax(codes, width: width, inputScale: scale, outputScale: outputScale, zeroPoint: zeroPoint, qmin: qmin)
                    XCTAssertEqual(got, expected, "\(kernel.name) width \(width) scale \(scale)")
                }
            }
        }
    }

    func layerNorm(_ codes: [UInt8], width: Int, gains: [(Int32, Int32)], biases: [Int64], epsilon: Int64, fractionBits: Int32) -> [UInt8] {
        var out = [UInt8](repeating: 0xAB, count: codes.count)
        var work = [Int32](repeating: 0, count: width + 16)
        onboard_q8_layernorm_rows(codes, &out, codes.count / width, width, gains.map(\.0), gains.map(\.1), biases, epsilon, fractionBits,
                                  120, 0, 255, &work)
        return out
    }

    func test_layerNormRowsMatchTheReference() throws {
        let kernels = Kernel.runnable("q8_layernorm_rows")
        var random = SplitMix64(seed: 29)
        for width in [1, 7, 8, 9, 128, 257, 1000] {
            let codes = rows(width: width, random: &random)
            // Gains as Dyadic approximations give: 31-bit multipliers, shifts 1...62, a zero gain, and
            // halvings (2^30 / 2^31), whose ties check the rounding of negative values.
            let gains = (0..<width).map { j -> (Int32, Int32) in
                if j == 1 { return (0, 1) }
                if j % 3 == 0 { return (1 << 30, 31) }
                return (Int32(1 << 30 | Int(random.next() % (1 << 30))), Int32(20 + random.next() % 43))
            }
            // Biases up to about +-100 codes (in units of 2^-12 of a code; shifted down for fewer fraction bits).
            let biases = (0..<width).map { _ in Int64(truncatingIfNeeded: random.next() % (1 << 20)) - (1 << 19) }
            // 12 fraction bits as the executor uses; 1 makes every rounding tie reach the codes.
            for (epsilon, fractionBits): (Int64, Int32) in [(0, 12), (1, 12), (1 << 20, 12), (1, 1)] {
                onboard_isa_set_cap(0)
                let scaled = biases.map { $0 >> (12 - Int64(fractionBits)) }
                let expected = layerNorm(codes, width: width, gains: gains, biases: scaled, epsilon: epsilon, fractionBits: fractionBits)
                XCTAssertEqual(expected, Q8RowsOracle.layerNorm(codes, width: width, gains: gains, biases: scaled, epsilon: epsilon,
                                                                fractionBits: fractionBits, zeroPoint: 120, qmin: 0, qmax: 255),
                               "reference width \(width) epsilon \(epsilon) fraction bits \(fractionBits)")
                for kernel in kernels {
                    kernel.cap()
                    let got = layerNorm(codes, width: width, gains: gains, biases: scaled, epsilon: epsilon, fractionBits: fractionBits)
                    XCTAssertEqual(got, expected, "\(kernel.name) width \(width) epsilon \(epsilon) fraction bits \(fractionBits)")
                }
            }
        }
    }
}
