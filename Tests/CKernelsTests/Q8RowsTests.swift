import CKernels
import Foundation
import OnboardCore
import XCTest

/// The integer softmax and layernorm row kernels: every path this CPU has equals the reference bit for bit.
final class Q8RowsTests: XCTestCase {
    override func tearDown() { onboard_q8_reset_isa() }

    /// Paths that select a row-kernel variant (the row kernels follow the GEMM's ISA choice).
    var paths: [(name: String, isa: UInt32)] {
        [("avx512vnni", ONBOARD_ISA_AVX512VNNI.rawValue)].filter { onboard_q8_force_isa($0.isa) == 0 }
    }

    /// Rows of random codes, then the edge rows: all 255, all 0, one 255 among 0s, three nearby codes.
    func rows(width: Int, random: inout SplitMix64) -> [UInt8] {
        var codes = (0..<(3 * width)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        codes += Array(repeating: 255, count: width) + Array(repeating: 0, count: width)
        codes += (0..<width).map { $0 == width / 2 ? 255 : 0 }
        codes += (0..<width).map { _ in UInt8(100 + random.next() % 3) }
        return codes
    }

    func softmax(_ codes: [UInt8], width: Int, inputScale: Double, outputScale: Double, zeroPoint: Int32, qmin: Int32) -> [UInt8] {
        let table = (0...255).map { Int32((exp(-inputScale * Double($0)) * 1_048_576).rounded()) }
        let inverse = 1 / outputScale
        let shift = 61 - max(Int(inverse.exponent) + 1, 0)
        let numerator = Int64((inverse * Double(sign: .plus, exponent: shift, significand: 1)).rounded())
        var out = [UInt8](repeating: 0xAB, count: codes.count)
        onboard_q8_softmax_lut_rows(codes, &out, codes.count / width, width, table, numerator, Int32(shift), zeroPoint, qmin, 255)
        return out
    }

    func test_softmaxRowsMatchTheReference() throws {
        let isas = paths
        try XCTSkipIf(isas.isEmpty, "no vector path on this CPU")
        var random = SplitMix64(seed: 17)
        for width in [1, 7, 15, 16, 17, 63, 64, 65, 160, 257, 1000, 40_000] {
            let codes = rows(width: width, random: &random)
            for (scale, outputScale, zeroPoint, qmin) in [(0.06, 1.0 / 255, Int32(0), Int32(0)), (0.5, 0.3 / 255, 0, 0),
                                                          (0.002, 0.004, 128, 1)] {
                _ = onboard_q8_force_isa(0)
                let expected = softmax(codes, width: width, inputScale: scale, outputScale: outputScale, zeroPoint: zeroPoint, qmin: qmin)
                for path in isas {
                    _ = onboard_q8_force_isa(path.isa)
                    let got = softmax(codes, width: width, inputScale: scale, outputScale: outputScale, zeroPoint: zeroPoint, qmin: qmin)
                    XCTAssertEqual(got, expected, "\(path.name) width \(width) scale \(scale)")
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
        let isas = paths
        try XCTSkipIf(isas.isEmpty, "no vector path on this CPU")
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
                _ = onboard_q8_force_isa(0)
                let scaled = biases.map { $0 >> (12 - Int64(fractionBits)) }
                let expected = layerNorm(codes, width: width, gains: gains, biases: scaled, epsilon: epsilon, fractionBits: fractionBits)
                for path in isas {
                    _ = onboard_q8_force_isa(path.isa)
                    let got = layerNorm(codes, width: width, gains: gains, biases: scaled, epsilon: epsilon, fractionBits: fractionBits)
                    XCTAssertEqual(got, expected, "\(path.name) width \(width) epsilon \(epsilon) fraction bits \(fractionBits)")
                }
            }
        }
    }
}
