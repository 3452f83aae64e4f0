import CKernels
import OnboardCore
import OnboardTestSupport
import XCTest

/// Products of two activations (`onboard_q8_product_*`): under every ISA level this CPU has, the
/// packed product equals the scalar reference on B shifted to int8, in both orientations of B.
final class Q8ProductTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    /// The caps of the ISA levels this CPU has (scalar first), then none.
    private var caps: [UInt32] {
        let levels = (0..<onboard_isa_level_count()).map { onboard_isa_level_at($0) }
        return levels.filter { onboard_cpu_isa_flags() & $0.needs == $0.needs }.map(\.cap) + [ONBOARD_ISA_NO_CAP]
    }

    private struct Product {
        let m: Int, n: Int, k: Int
        let a: [UInt8], b: [UInt8]  // b is [K, N]

        func transposedB() -> [UInt8] { (0..<(n * k)).map { b[($0 % k) * n + $0 / k] } }
        func shiftedB() -> [Int8] { b.map { Int8(bitPattern: $0 ^ 0x80) } }
    }

    private func product(_ p: Product, epilogue: onboard_q8_epilogue, elementSize: Int, transposed: Bool) -> (out: [UInt8], sums: [Int32]) {
        var packed = [UInt8](repeating: 0xCD, count: onboard_q8_product_packed_size(p.k, p.n))
        var sums = [Int32](repeating: 0, count: p.n)
        let source = transposed ? p.transposedB() : p.b
        onboard_q8_product_pack_b(source, transposed ? p.k : p.n, transposed, p.k, p.n, &packed, &sums)
        var out = [UInt8](repeating: 0xAB, count: p.m * p.n * elementSize)
        var e = epilogue
        let panels = (p.n + 15) / 16
        out.withUnsafeMutableBytes { o in
            // Two calls over disjoint panel ranges, as threads do.
            onboard_q8_product(p.m, p.n, p.k, p.a, p.k, packed, &e, o.baseAddress, p.n, 0, panels / 2)
            onboard_q8_product(p.m, p.n, p.k, p.a, p.k, packed, &e, o.baseAddress, p.n, panels / 2, panels)
        }
        return (out, sums)
    }

    private func reference(_ p: Product, epilogue: onboard_q8_epilogue, elementSize: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0xAB, count: p.m * p.n * elementSize)
        var e = epilogue
        onboard_isa_set_cap(0)
        out.withUnsafeMutableBytes { o in onboard_q8_gemm__scalar(p.m, p.n, p.k, p.a, p.k, p.shiftedB(), p.n, &e, o.baseAddress, p.n) }
        Kernel.removeCap()
        return out
    }

    func test_everyPathEqualsTheReferenceOnFullRangeCodes() {
        var shapes = [(1, 1, 1), (6, 16, 4), (7, 17, 3), (13, 33, 63), (197, 197, 64), (197, 64, 197), (97, 40, 5)]
        var g = SplitMix64(seed: 41)
        for _ in 0..<5 { shapes.append((Int.random(in: 1...200, using: &g), Int.random(in: 1...200, using: &g), Int.random(in: 1...260, using: &g))) }
        let colBias = (0..<260).map { Int32($0 * 37 - 1500) }
        var s32 = onboard_q8_epilogue()
        s32.out_type = ONBOARD_Q8_OUT_S32
        var u8 = Q8GemmTests.u8Epilogue(zeroPoint: 120, min: 0, max: 255, columnBias: nil)
        let scale: [Float] = [0.00013]
        for (index, (m, n, k)) in shapes.enumerated() {
            for extreme in [false, true] {
                var r = SplitMix64(seed: UInt64(index))
                // Extreme: A all 255 against B alternating 0 / 255 per depth (-128 / 127 shifted),
                // whose int16 pair sums would saturate.
                let a = (0..<(m * k)).map { _ in extreme ? UInt8(255) : UInt8(truncatingIfNeeded: r.next()) }
                let b = (0..<(k * n)).map { i in extreme ? UInt8((i / n) % 2 == 0 ? 0 : 255) : UInt8(truncatingIfNeeded: r.next()) }
                let p = Product(m: m, n: n, k: k, a: a, b: b)
                let shifted = p.shiftedB()
                let expectedSums = (0..<n).map { j in (0..<k).reduce(Int32(0)) { $0 + Int32(shifted[$1 * n + j]) } }
                let exact = reference(p, epilogue: s32, elementSize: 4)
                if extreme {
                    let expected = Int32(255 * (-128 * ((k + 1) / 2) + 127 * (k / 2)))
                    exact.withUnsafeBytes { XCTAssertEqual($0.load(as: Int32.self), expected, "m\(m) n\(n) k\(k)") }
                }
                let requantized = colBias.withUnsafeBufferPointer { bias -> [UInt8] in
                    scale.withUnsafeBufferPointer { u8.col_bias = bias.baseAddress; u8.scale = $0.baseAddress
                        return reference(p, epilogue: u8, elementSize: 1) }
                }
                for cap in caps {
                    onboard_isa_set_cap(cap)
                    for transposed in [false, true] {
                        let label = "cap \(cap) wide \(onboard_q8_product_is_wide()) m\(m) n\(n) k\(k) extreme \(extreme) transposed \(transposed)"
                        let (out, sums) = product(p, epilogue: s32, elementSize: 4, transposed: transposed)
                        XCTAssertEqual(out, exact, label)
                        XCTAssertEqual(sums, expectedSums, label)
                        let codes = colBias.withUnsafeBufferPointer { bias -> [UInt8] in
                            scale.withUnsafeBufferPointer { u8.col_bias = bias.baseAddress; u8.scale = $0.baseAddress
                                return product(p, epilogue: u8, elementSize: 1, transposed: transposed).out }
                        }
                        XCTAssertEqual(codes, requantized, label)
                    }
                }
            }
        }
    }

    /// int16 pairs where q8's best kernel has no int8 dot product: AVX2 without VNNI, and the scalar
    /// loops (so that ONBOARD_ISA=scalar runs the family's scalar kernels).
    func test_widePairsOnlyWithoutADotProduct() {
        onboard_isa_set_cap(0)
        XCTAssertTrue(onboard_q8_product_is_wide())
        let cpu = onboard_cpu_isa_flags()
        guard cpu & ONBOARD_ISA_AVX2.rawValue != 0 else { return }
        onboard_isa_set_cap(ONBOARD_ISA_AVX2.rawValue)
        XCTAssertTrue(onboard_q8_product_is_wide())
        Kernel.removeCap()
        let dot = ONBOARD_ISA_AVXVNNI.rawValue | ONBOARD_ISA_AVX512VNNI.rawValue
        XCTAssertEqual(onboard_q8_product_is_wide(), cpu & dot == 0)
    }
}
