import CKernels
import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// Every 4-bit-weight GEMM kernel this CPU has must equal the scalar reference bit for bit, and the
/// product must be the INT8 GEMM's on the same codes at half the packed bytes.
final class Q4GemmTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    /// The microkernels of the list this CPU has; capping the ISA at one's flags runs it.
    var kernels: [Kernel] { Kernel.runnable("q4_gemm") }

    struct Case {
        let m: Int, n: Int, k: Int
        let a: [UInt8], b: [Int8]  // b is [K, N], codes in [-8, 7]
        var transposedB: [Int8] { (0..<(n * k)).map { b[($0 % k) * n + $0 / k] } }
    }

    /// Random codes, or (extreme) A all 255 against B all `extreme` or, for 0, alternating -8 / 7 by depth.
    func makeCase(m: Int, n: Int, k: Int, seed: UInt64, extreme: Int8? = nil) -> Case {
        var g = SplitMix64(seed: seed)
        let a = (0..<(m * k)).map { _ in extreme != nil ? UInt8(255) : UInt8(truncatingIfNeeded: g.next()) }
        let b = (0..<(k * n)).map { i -> Int8 in
            guard let extreme else { return Int8(Int(g.next() % 16) - 8) }
            return extreme != 0 ? extreme : ((i / n) % 2 == 0 ? -8 : 7)
        }
        return Case(m: m, n: n, k: k, a: a, b: b)
    }

    func pack(_ c: Case, transposed: Bool = false) -> [UInt8] {
        var weights = [UInt8](repeating: 0xEE, count: max(onboard_q4_packed_size(c.k, c.n), 1))
        if transposed { onboard_q4_pack_b(c.transposedB, c.k, true, c.k, c.n, &weights, nil) }
        else { onboard_q4_pack_b(c.b, c.n, false, c.k, c.n, &weights, nil) }
        return weights
    }

    /// The product by the reference, or packed in two calls over disjoint panel ranges (as threads split it).
    func run(_ c: Case, epilogue: onboard_q8_epilogue, elementSize: Int, packed: Bool, transposed: Bool = false) -> [UInt8] {
        var out = [UInt8](repeating: 0xAB, count: max(c.m * c.n * elementSize, 1))
        var e = epilogue
        if packed {
            let weights = pack(c, transposed: transposed)
            let panels = (c.n + 15) / 16
            out.withUnsafeMutableBytes { o in
                onboard_q4_gemm(c.m, c.n, c.k, c.a, c.k, weights, &e, o.baseAddress, c.n, 0, panels / 2)
                onboard_q4_gemm(c.m, c.n, c.k, c.a, c.k, weights, &e, o.baseAddress, c.n, panels / 2, panels)
            }
        } else {
            out.withUnsafeMutableBytes { o in onboard_q4_gemm__scalar(c.m, c.n, c.k, c.a, c.k, c.b, c.n, &e, o.baseAddress, c.n) }
        }
        return out
    }

    static let shapes: [(Int, Int, Int)] = {
        var shapes = [(1, 1, 1), (1, 257, 3), (257, 1, 5), (13, 17, 255), (12, 32, 256), (25, 48, 257), (7, 33, 1), (6, 16, 4),
                      (11, 31, 7), (97, 40, 3), (24, 64, 600)]
        var g = SplitMix64(seed: 404)
        for _ in 0..<6 { shapes.append((Int.random(in: 1...200, using: &g), Int.random(in: 1...200, using: &g), Int.random(in: 1...300, using: &g))) }
        return shapes
    }()

    func test_everyKernelIsBitIdenticalToTheReferenceOnInt32Sums() {
        XCTAssertGreaterThan(kernels.count, 1, "a vector kernel besides the scalar one")
        var e = onboard_q8_epilogue()
        e.out_type = ONBOARD_Q8_OUT_S32
        for (index, (m, n, k)) in Self.shapes.enumerated() {
            let c = makeCase(m: m, n: n, k: k, seed: UInt64(index))
            onboard_isa_set_cap(0)
            let reference = run(c, epilogue: e, elementSize: 4, packed: false)
            reference.withUnsafeBytes { r in  // the reference is the plain sum
                var sum: Int32 = 0
                for t in 0..<k { sum += Int32(c.a[(m - 1) * k + t]) * Int32(c.b[t * n + n - 1]) }
                XCTAssertEqual(r.load(fromByteOffset: ((m - 1) * n + n - 1) * 4, as: Int32.self), sum)
            }
            for kernel in kernels {
                kernel.cap()
                XCTAssertEqual(run(c, epilogue: e, elementSize: 4, packed: true, transposed: index % 2 == 1), reference,
                               "\(kernel.name) m\(m) n\(n) k\(k)")
            }
        }
    }

    /// A all 255 against B all -8, all 7, or -8 / 7 alternating by depth: the exact sums.
    func test_extremeCodesGiveTheExactSums() {
        var e = onboard_q8_epilogue()
        e.out_type = ONBOARD_Q8_OUT_S32
        for (m, n, k) in [(13, 17, 255), (25, 48, 1031), (1, 1, 1), (12, 32, 256)] {
            for extreme: Int8 in [-8, 7, 0] {
                let c = makeCase(m: m, n: n, k: k, seed: 1, extreme: extreme)
                let expected: Int32 = extreme == 0 ? Int32(255 * (-8 * ((k + 1) / 2) + 7 * (k / 2))) : Int32(255 * Int(extreme) * k)
                onboard_isa_set_cap(0)
                let reference = run(c, epilogue: e, elementSize: 4, packed: false)
                reference.withUnsafeBytes { r in
                    for i in 0..<(m * n) { XCTAssertEqual(r.load(fromByteOffset: i * 4, as: Int32.self), expected, "element \(i)") }
                }
                for kernel in kernels {
                    kernel.cap()
                    XCTAssertEqual(run(c, epilogue: e, elementSize: 4, packed: true), reference, "\(kernel.name) m\(m) n\(n) k\(k) B \(extreme)")
                }
            }
        }
    }

    /// Every output type, with column, row and element biases, per-tensor and per-column scales,
    /// fixed point and a clamp, on every kernel (their fused epilogues and the shared one).
    func test_everyOutputTypeAndFixedPointIsBitIdentical() {
        for (index, (m, n, k)) in [(29, 48, 70), (13, 17, 255), (25, 33, 257), (1, 5, 3), (4200, 32, 8)].enumerated() {
            let c = makeCase(m: m, n: n, k: k, seed: UInt64(50 + index))
            var g = SplitMix64(seed: UInt64(index))
            let colBias = (0..<n).map { _ in Int32(g.next() % 4001) - 2000 }
            let rowBias = (0..<m).map { _ in Int32(g.next() % 401) - 200 }
            let tileBias = (0..<(m * n)).map { _ in Int32(g.next() % 101) - 50 }
            let scales = (0..<n).map { _ in 0.002 + Float(g.next() % 1000) * 0.00002 }
            let multipliers = (0..<n).map { _ in Int32(1 << 30) + Int32(g.next() % (1 << 30)) }
            let shifts = (0..<n).map { _ in Int32((k < 64 ? 0 : 4) + g.next() % 3) }  // codes spread at small depths too
            let fbias = (0..<n).map { _ in Float(g.next() % 2001) * 0.001 - 1 }
            for variant in 0..<10 {
                colBias.withUnsafeBufferPointer { cb in rowBias.withUnsafeBufferPointer { rb in tileBias.withUnsafeBufferPointer { tb in
                scales.withUnsafeBufferPointer { sc in multipliers.withUnsafeBufferPointer { mp in shifts.withUnsafeBufferPointer { sp in
                fbias.withUnsafeBufferPointer { fb in
                    var e = onboard_q8_epilogue()
                    e.out_type = [ONBOARD_Q8_OUT_U8, ONBOARD_Q8_OUT_S8, ONBOARD_Q8_OUT_F32, ONBOARD_Q8_OUT_S32][variant % 4]
                    let size = variant % 4 < 2 ? 1 : 4
                    e.col_bias = variant % 3 == 0 ? nil : cb.baseAddress
                    if variant % 2 == 1 { e.row_bias = rb.baseAddress }
                    if variant >= 4 { e.tile_bias = tb.baseAddress; e.tile_bias_ld = n }
                    e.scale = sc.baseAddress
                    e.scale_per_column = variant % 5 < 3 ? 1 : 0
                    e.use_fixed_point = size == 1 && variant >= 4 ? 1 : 0
                    e.multiplier = mp.baseAddress
                    e.shift = sp.baseAddress
                    if e.out_type == ONBOARD_Q8_OUT_F32 && variant > 4 { e.f32_bias = fb.baseAddress }
                    e.out_zero_point = e.out_type == ONBOARD_Q8_OUT_U8 ? 120 : -3
                    e.out_min = e.out_type == ONBOARD_Q8_OUT_U8 ? (variant > 5 ? 120 : 0) : -128
                    e.out_max = e.out_type == ONBOARD_Q8_OUT_U8 ? 255 : 127
                    onboard_isa_set_cap(0)
                    let reference = run(c, epilogue: e, elementSize: size, packed: false)
                    if size == 1 { XCTAssertGreaterThan(Set(reference).count, min(m * n / 4, 16), "codes spread, m\(m) n\(n) k\(k) variant \(variant)") }
                    for kernel in kernels {
                        kernel.cap()
                        XCTAssertEqual(run(c, epilogue: e, elementSize: size, packed: true), reference,
                                       "\(kernel.name) m\(m) n\(n) k\(k) variant \(variant)")
                    }
                } } } } } } }
            }
        }
    }

    /// One group of panels written into a buffer of its own (an attention head) gives those columns
    /// of the whole product, on every kernel, in u8, s32 and f32.
    func test_panelsWrittenIntoTheirOwnBufferAreThoseColumnsOfTheProduct() {
        let (m, n, k, width) = (29, 96, 70, 32)
        let c = makeCase(m: m, n: n, k: k, seed: 21)
        let weights = pack(c)
        let colBias = (0..<n).map { Int32($0 * 37 - 1500) }
        let scales = (0..<n).map { 0.004 + Float($0) * 0.0001 }
        for outType in [ONBOARD_Q8_OUT_U8, ONBOARD_Q8_OUT_S32, ONBOARD_Q8_OUT_F32] {
            let size = outType == ONBOARD_Q8_OUT_U8 ? 1 : 4
            colBias.withUnsafeBufferPointer { cb in scales.withUnsafeBufferPointer { sc in
                var e = onboard_q8_epilogue()
                e.col_bias = cb.baseAddress
                e.scale = sc.baseAddress
                e.scale_per_column = 1
                e.out_zero_point = 120
                e.out_max = 255
                e.out_type = outType
                onboard_isa_set_cap(0)
                let reference = run(c, epilogue: e, elementSize: size, packed: false)
                for kernel in kernels {
                    kernel.cap()
                    for group in 0..<(n / width) {
                        var block = [UInt8](repeating: 0xAB, count: m * width * size)
                        block.withUnsafeMutableBytes {
                            onboard_q4_gemm_panels_into(m, n, k, c.a, k, weights, &e, $0.baseAddress, width, group * width / 16, (group + 1) * width / 16)
                        }
                        var expected: [UInt8] = []
                        for row in 0..<m {
                            let start = (row * n + group * width) * size
                            expected += reference[start..<(start + width * size)]
                        }
                        XCTAssertEqual(block, expected, "\(kernel.name) out \(outType.rawValue) group \(group)")
                    }
                }
            } }
        }
    }

    /// The product equals the INT8 GEMM's on the same codes (each family at its fastest kernel and
    /// with the cap at each q4 kernel), from half the packed bytes (plus at most a small constant).
    func test_equalsTheInt8GemmOnTheSameCodesAtHalfTheBytes() {
        for (index, (m, n, k)) in Self.shapes.enumerated() {
            let c = makeCase(m: m, n: n, k: k, seed: UInt64(200 + index))
            XCTAssertLessThanOrEqual(onboard_q4_packed_size(k, n), onboard_q8_packed_size(k, n) / 2 + 32, "m\(m) n\(n) k\(k)")
            var q8 = [Int8](repeating: 0, count: max(onboard_q8_packed_size(k, n), 1))
            var q8Sums = [Int32](repeating: 0, count: n), q4Sums = [Int32](repeating: 1, count: n)
            onboard_q8_pack_b(c.b, n, false, k, n, &q8, &q8Sums)
            var q4 = [UInt8](repeating: 0, count: max(onboard_q4_packed_size(k, n), 1))
            onboard_q4_pack_b(c.b, n, false, k, n, &q4, &q4Sums)
            XCTAssertEqual(q4Sums, q8Sums, "column sums m\(m) n\(n) k\(k)")
            let colBias = (0..<n).map { Int32($0 % 50 - 25) }
            colBias.withUnsafeBufferPointer { cb in
                var e = onboard_q8_epilogue()
                e.out_type = ONBOARD_Q8_OUT_S32
                e.col_bias = cb.baseAddress
                let panels = (n + 15) / 16
                for kernel in kernels {
                    kernel.cap()
                    var int8 = [Int32](repeating: 0, count: m * n), int4 = [Int32](repeating: 1, count: m * n)
                    onboard_q8_gemm(m, n, k, c.a, k, q8, &e, &int8, n, 0, panels)
                    onboard_q4_gemm(m, n, k, c.a, k, q4, &e, &int4, n, 0, panels)
                    XCTAssertEqual(int4, int8, "\(kernel.name) m\(m) n\(n) k\(k)")
                }
            }
        }
    }

    /// Packing [N, K] (a Linear weight) gives the bytes of packing [K, N], and the documented layout:
    /// a group's byte i holds code i % 4 of column i / 4 (low nibble) and of column 8 + i / 4 (high).
    func test_packingLayoutAndTransposedPacking() {
        for (k, n) in [(1, 1), (3, 5), (4, 16), (31, 33), (300, 40), (513, 17)] {
            let c = makeCase(m: 1, n: n, k: k, seed: UInt64(k * n))
            let weights = pack(c)
            XCTAssertEqual(pack(c, transposed: true), weights, "k \(k) n \(n)")
            let kp = (k + 3) / 4 * 4
            XCTAssertEqual(weights.count, (n + 15) / 16 * 16 * kp / 2)
            for p in 0..<((n + 15) / 16) {
                for g in 0..<(kp / 4) {
                    for i in 0..<32 {
                        let byte = weights[p * 16 * kp / 2 + g * 32 + i]
                        let depth = 4 * g + i % 4
                        func code(_ column: Int) -> Int8 { column < n && depth < k ? c.b[depth * n + column] : 0 }
                        XCTAssertEqual(Int8(bitPattern: byte << 4) >> 4, code(16 * p + i / 4), "k \(k) n \(n) panel \(p) group \(g) byte \(i)")
                        XCTAssertEqual(Int8(bitPattern: byte) >> 4, code(16 * p + 8 + i / 4), "k \(k) n \(n) panel \(p) group \(g) byte \(i)")
                    }
                }
            }
        }
    }

    /// Under the cap of each ONBOARD_ISA level this CPU has (only the level `ONBOARD_ISA` names, when
    /// the suite runs under it), as the executors set it, the product falls through to a kernel the
    /// level allows and equals the reference.
    func test_everyISALevelFallsThroughToTheReference() throws {
        let levels = (0..<onboard_isa_level_count()).map { onboard_isa_level_at($0) }
            .filter { onboard_cpu_isa_flags() & $0.needs == $0.needs }
        let requested = ProcessInfo.processInfo.environment["ONBOARD_ISA"].flatMap { $0.isEmpty ? nil : $0.lowercased() }
        let chosen = levels.filter { requested == nil || String(cString: $0.name) == requested }
        XCTAssertFalse(chosen.isEmpty, "ONBOARD_ISA=\(requested ?? "") is a level this CPU has")
        var e = onboard_q8_epilogue()
        e.out_type = ONBOARD_Q8_OUT_S32
        for (index, (m, n, k)) in Self.shapes.enumerated() {
            let c = makeCase(m: m, n: n, k: k, seed: UInt64(300 + index))
            onboard_isa_set_cap(0)
            let reference = run(c, epilogue: e, elementSize: 4, packed: false)
            for level in chosen {
                onboard_isa_set_cap(level.cap)
                XCTAssertEqual(run(c, epilogue: e, elementSize: 4, packed: true), reference, "\(String(cString: level.name)) m\(m) n\(n) k\(k)")
            }
        }
    }

    func test_fourBitRangeIsDetectedExactly() {
        let inside: [Int8] = [-8, 0, 7, 3, -1, 5]
        XCTAssertTrue(onboard_q4_fits(inside, 3, 2, 3))
        for outside: Int8 in [-9, 8, -128, 127] {
            var b = inside
            b[4] = outside
            XCTAssertFalse(onboard_q4_fits(b, 3, 2, 3), "\(outside)")
            XCTAssertTrue(onboard_q4_fits(b, 3, 1, 3), "row 1 is outside the rows checked")
        }
    }

    /// Capping at a q4 kernel's flags selects it (each kernel above is checked, not a neighbour twice).
    func test_eachKernelIsTheFirstItsOwnFlagsSelect() {
        let list = Kernel.all.filter { $0.op == "q4_gemm" }
        XCTAssertEqual(list.last?.isa, "scalar")
        for kernel in list {
            let selected = list.first { $0.nr == kernel.nr && kernel.isaFlags & $0.isaFlags == $0.isaFlags }
            XCTAssertEqual(selected?.name, kernel.name)
        }
    }
}
