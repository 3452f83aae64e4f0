import CKernels
import OnboardCore
import XCTest

/// The GEMM epilogue (requantization of the int32 sums, shared by every microkernel) has a portable
/// build and an AVX2 one: under every cap this CPU allows it gives the portable codes bit for bit,
/// for fixed-point and float scales (per tensor and per column), u8 and s8 codes, all three biases,
/// edge multipliers and shifts, and ranges the vector packs cannot hold (left to the loops).
final class Q8EpilogueTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    func product(m: Int, n: Int, k: Int, epilogue: onboard_q8_epilogue, a: [UInt8], b: [Int8]) -> [UInt8] {
        var out = [UInt8](repeating: 0xAB, count: m * n)
        var e = epilogue
        out.withUnsafeMutableBytes { onboard_q8_gemm__scalar(m, n, k, a, k, b, n, &e, $0.baseAddress, n) }
        return out
    }

    func test_theEpilogueGivesTheSameCodesUnderEveryCap() {
        var g = SplitMix64(seed: 2026)
        let caps = [ONBOARD_ISA_NO_CAP] + KernelISAFlags.levelsHere
        for (m, n, k) in [(3, 8, 5), (5, 37, 64), (17, 16, 300), (2, 7, 9)] {
            let a = (0..<(m * k)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            let b = (0..<(k * n)).map { _ in Int8(truncatingIfNeeded: g.next()) }
            let rowBias = (0..<m).map { _ in Int32(truncatingIfNeeded: g.next() % 2_000_001) - 1_000_000 }
            let colBias = (0..<n).map { _ in Int32(truncatingIfNeeded: g.next() % 2_000_001) - 1_000_000 }
            let tileBias = (0..<(m * n)).map { _ in Int32(truncatingIfNeeded: g.next() % 200_001) - 100_000 }
            // Column 0 (the per-tensor one) is typical: a multiplier in [2^30, 2^31), a shift that
            // spreads the sums over the codes. Other columns add INT32_MIN and other signed
            // multipliers, shifts below 0 (as 0) and up to 31, and scales beyond the +-2^22 clamp.
            let multipliers = (0..<n).map { j -> Int32 in
                j % 5 == 1 ? Int32.min : j % 5 == 2 ? Int32(truncatingIfNeeded: g.next()) : Int32(1 << 30) + Int32(g.next() % (1 << 30))
            }
            let shifts = (0..<n).map { j -> Int32 in j % 7 == 3 ? -3 : j % 7 == 4 ? 31 : Int32(11 + g.next() % 5) }
            let scales = (0..<n).map { j -> Float in
                let typical = Float(Double(1 + g.next() % 1000) * pow(2, -22)) * (j > 0 && g.next() % 4 == 0 ? -1 : 1)
                return j % 6 == 5 ? typical * 1e6 : typical
            }
            for variant in 0..<16 {
                let fixedPoint = variant & 1 != 0, perColumn = variant & 2 != 0, s8 = variant & 4 != 0, wide = variant & 8 != 0
                multipliers.withUnsafeBufferPointer { mp in shifts.withUnsafeBufferPointer { sp in scales.withUnsafeBufferPointer { scp in
                rowBias.withUnsafeBufferPointer { rb in colBias.withUnsafeBufferPointer { cb in tileBias.withUnsafeBufferPointer { tb in
                    var e = onboard_q8_epilogue()
                    (e.row_bias, e.col_bias, e.tile_bias, e.tile_bias_ld) = (rb.baseAddress, cb.baseAddress, tb.baseAddress, n)
                    (e.multiplier, e.shift, e.scale) = (mp.baseAddress, sp.baseAddress, scp.baseAddress)
                    e.use_fixed_point = fixedPoint ? 1 : 0
                    e.scale_per_column = perColumn ? 1 : 0
                    e.out_type = s8 ? ONBOARD_Q8_OUT_S8 : ONBOARD_Q8_OUT_U8
                    // `wide`: a clamp outside the code type, which the codes wrap.
                    (e.out_zero_point, e.out_min, e.out_max) = s8 ? (wide ? (3, -300, 300) : (-5, -128, 127))
                                                                   : (wide ? (100, -20, 400) : (131, 0, 255))
                    onboard_isa_set_cap(0)
                    let reference = product(m: m, n: n, k: k, epilogue: e, a: a, b: b)
                    XCTAssertGreaterThan(Set(reference).count, 2, "m \(m) n \(n) variant \(variant): the codes vary")
                    for cap in caps {
                        onboard_isa_set_cap(cap)
                        XCTAssertEqual(product(m: m, n: n, k: k, epilogue: e, a: a, b: b), reference,
                                       "cap \(cap) m \(m) n \(n) k \(k) variant \(variant)")
                    }
                } } } } } }
            }
        }
    }
}

/// The caps of the ONBOARD_ISA levels this CPU has.
enum KernelISAFlags {
    static var levelsHere: [UInt32] {
        (0..<onboard_isa_level_count()).map { onboard_isa_level_at($0) }
            .filter { onboard_cpu_isa_flags() & $0.needs == $0.needs }.map(\.cap)
    }
}
