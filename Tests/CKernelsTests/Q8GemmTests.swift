import CKernels
import OnboardCore
import OnboardTestSupport
import XCTest

/// Every INT8 GEMM kernel this CPU has must equal the scalar reference bit for bit.
final class Q8GemmTests: XCTestCase {
    /// A u8 epilogue with the given output zero point and clamp; scales are the caller's to set.
    static func u8Epilogue(zeroPoint: Int32, min: Int32, max: Int32, columnBias: UnsafePointer<Int32>?) -> onboard_q8_epilogue {
        var e = onboard_q8_epilogue()
        e.col_bias = columnBias
        e.out_zero_point = zeroPoint
        e.out_min = min
        e.out_max = max
        e.out_type = ONBOARD_Q8_OUT_U8
        return e
    }

    override func tearDown() { Kernel.removeCap() }

    /// The microkernels of the list this CPU has; capping the ISA at one's flags runs it.
    var kernels: [Kernel] { Kernel.runnable("q8_gemm") }

    /// Caps the ISA at nothing: the packed product runs the scalar microkernel.
    func capAtScalar() { onboard_isa_set_cap(0) }

    struct Case {
        let m: Int, n: Int, k: Int
        let a: [UInt8], b: [Int8]  // b is [K, N]
    }

    func makeCase(m: Int, n: Int, k: Int, seed: UInt64, extreme: Bool) -> Case {
        var g = SplitMix64(seed: seed)
        let a = (0..<(m * k)).map { _ in extreme ? UInt8(255) : UInt8(truncatingIfNeeded: g.next()) }
        // Extreme: every depth alternates -128 / 127 against 255s.
        let b = (0..<(k * n)).map { i in extreme ? Int8((i / n) % 2 == 0 ? -128 : 127) : Int8(truncatingIfNeeded: g.next()) }
        return Case(m: m, n: n, k: k, a: a, b: b)
    }

    func run(_ c: Case, epilogue: onboard_q8_epilogue, elementSize: Int, packed: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0xAB, count: max(c.m * c.n * elementSize, 1))
        var e = epilogue
        if packed {
            var weights = [Int8](repeating: 0, count: max(onboard_q8_packed_size(c.k, c.n), 1))
            onboard_q8_pack_b(c.b, c.n, false, c.k, c.n, &weights, nil)
            let panels = (c.n + 15) / 16
            out.withUnsafeMutableBytes { o in
                // Two calls over disjoint panel ranges, as threads do.
                onboard_q8_gemm(c.m, c.n, c.k, c.a, c.k, weights, &e, o.baseAddress, c.n, 0, panels / 2)
                onboard_q8_gemm(c.m, c.n, c.k, c.a, c.k, weights, &e, o.baseAddress, c.n, panels / 2, panels)
            }
        } else {
            out.withUnsafeMutableBytes { o in onboard_q8_gemm__scalar(c.m, c.n, c.k, c.a, c.k, c.b, c.n, &e, o.baseAddress, c.n) }
        }
        return out
    }

    func test_everyPathIsBitIdenticalToTheReference() {
        var shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 257, 3), (257, 1, 5), (13, 17, 255), (12, 32, 256), (25, 48, 257), (7, 33, 1)]
        var g = SplitMix64(seed: 99)
        for _ in 0..<6 { shapes.append((Int.random(in: 1...257, using: &g), Int.random(in: 1...257, using: &g), Int.random(in: 1...257, using: &g))) }
        var e = onboard_q8_epilogue()
        e.out_type = ONBOARD_Q8_OUT_S32
        for (index, (m, n, k)) in shapes.enumerated() {
            for extreme in [false, true] {
                let c = makeCase(m: m, n: n, k: k, seed: UInt64(index), extreme: extreme)
                capAtScalar()
                let reference = run(c, epilogue: e, elementSize: 4, packed: false)
                if extreme {
                    // The exact sum, which an int16-saturating path (vpmaddubsw) would miss.
                    let expected = Int32(255 * (-128 * ((k + 1) / 2) + 127 * (k / 2)))
                    reference.withUnsafeBytes { XCTAssertEqual($0.load(as: Int32.self), expected, "m\(m) n\(n) k\(k)") }
                }
                for kernel in kernels {
                    kernel.cap()
                    XCTAssertEqual(run(c, epilogue: e, elementSize: 4, packed: true), reference, "\(kernel.name) m\(m) n\(n) k\(k) extreme \(extreme)")
                }
            }
        }
    }

    /// 7-bit B (codes -64...64, `b_fits_7_bits`): every narrow-range kernel equals the reference, also at
    /// the int16 edge (255 · 64 · 2 = 32640 per vpmaddubsw pair, both signs); so does the flagged
    /// product under each general kernel's cap (where the driver may take a narrow-range one).
    func test_sevenBitWeightKernelsAreBitIdentical() {
        var shapes: [(Int, Int, Int)] = [(1, 1, 1), (6, 16, 4), (7, 33, 5), (13, 17, 255), (25, 48, 257), (97, 40, 3)]
        var g = SplitMix64(seed: 7)
        for _ in 0..<6 { shapes.append((Int.random(in: 1...200, using: &g), Int.random(in: 1...200, using: &g), Int.random(in: 1...300, using: &g))) }
        var e = onboard_q8_epilogue()
        e.out_type = ONBOARD_Q8_OUT_S32
        for (index, (m, n, k)) in shapes.enumerated() {
            for extreme in [false, true] {
                var r = SplitMix64(seed: UInt64(100 + index))
                let a = (0..<(m * k)).map { _ in extreme ? UInt8(255) : UInt8(truncatingIfNeeded: r.next()) }
                // Extreme: pairs of depths alternate -64, -64 / 64, 64.
                let b = (0..<(k * n)).map { i in extreme ? Int8((i / n / 2) % 2 == 0 ? -64 : 64) : Int8(Int(r.next() % 129) - 64) }
                let c = Case(m: m, n: n, k: k, a: a, b: b)
                XCTAssertTrue(onboard_q8_b_fits_7_bits(b, n, k, n))
                capAtScalar()
                e.b_fits_7_bits = 0
                let reference = run(c, epilogue: e, elementSize: 4, packed: false)
                e.b_fits_7_bits = 1
                for kernel in Kernel.runnable("q8_gemm_b7") + kernels {
                    kernel.cap()
                    XCTAssertEqual(run(c, epilogue: e, elementSize: 4, packed: true), reference, "\(kernel.name) m\(m) n\(n) k\(k) extreme \(extreme)")
                }
            }
        }
    }

    /// The kernels' own stores from the registers (the narrow-range ones on 7-bit B, flagged, the
    /// general ones on full-range B) for every output type: column, row and per-element biases,
    /// per-tensor and per-column scales, the fixed-point and float requantizations, the f32 bias,
    /// clamps inside and outside the code type, and int32 output beyond the caches (non-temporal
    /// stores, aligned or not). k = 8 is the Vim dt_proj's depth.
    func test_registerEpiloguesAreBitIdentical() {
        for (list, sevenBit) in [("q8_gemm_b7", true), ("q8_gemm", false)] {
            for (m, n, k) in [(29, 48, 70), (4200, 256, 8), (7, 40, 8)] {
                var r = SplitMix64(seed: 31)
                let a = (0..<(m * k)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
                let b = (0..<(k * n)).map { _ in sevenBit ? Int8(Int(r.next() % 129) - 64) : Int8(truncatingIfNeeded: r.next()) }
                checkRegisterEpilogues(Case(m: m, n: n, k: k, a: a, b: b), list: list, sevenBit: sevenBit)
            }
        }
    }

    /// One output type with its element size, clamp and requantization.
    private struct EpilogueVariant {
        let type: onboard_q8_out_type, size: Int, min: Int32, max: Int32
        var fixedPoint = false, perColumn = false, biases = true
    }

    private static let epilogueVariants: [EpilogueVariant] = [
        EpilogueVariant(type: ONBOARD_Q8_OUT_S32, size: 4, min: 0, max: 0, biases: false),
        EpilogueVariant(type: ONBOARD_Q8_OUT_S32, size: 4, min: 0, max: 0),
        EpilogueVariant(type: ONBOARD_Q8_OUT_U8, size: 1, min: 0, max: 255),
        EpilogueVariant(type: ONBOARD_Q8_OUT_U8, size: 1, min: 120, max: 200, perColumn: true),
        EpilogueVariant(type: ONBOARD_Q8_OUT_U8, size: 1, min: 0, max: 255, fixedPoint: true, perColumn: true),
        EpilogueVariant(type: ONBOARD_Q8_OUT_U8, size: 1, min: -40, max: 300),  // wraps: the shared loops
        EpilogueVariant(type: ONBOARD_Q8_OUT_S8, size: 1, min: -128, max: 127, fixedPoint: true),
        EpilogueVariant(type: ONBOARD_Q8_OUT_S8, size: 1, min: -100, max: 90, perColumn: true),
        EpilogueVariant(type: ONBOARD_Q8_OUT_F32, size: 4, min: 0, max: 0),
        EpilogueVariant(type: ONBOARD_Q8_OUT_F32, size: 4, min: 0, max: 0, perColumn: true),
    ]

    private func checkRegisterEpilogues(_ c: Case, list: String, sevenBit: Bool) {
        let (m, n) = (c.m, c.n)
        let colBias = (0..<n).map { Int32($0 * 37 - 1500) }
        let rowBias = (0..<m).map { Int32($0 * 11 - 90) }
        let tileBias = (0..<(m * n)).map { Int32($0 % 101 - 50) }
        let scales = (0..<n).map { Float(0.0007) * Float(1 + $0 % 5) }
        let multipliers = (0..<n).map { Int32(1 << 30) + Int32($0 * 7919 % (1 << 29)) }
        let shifts = (0..<n).map { Int32(10 + $0 % 4) }
        let floatBias = (0..<n).map { Float($0) * 0.25 - 3 }
        for (index, variant) in Self.epilogueVariants.enumerated() {
            var e = Self.u8Epilogue(zeroPoint: variant.type == ONBOARD_Q8_OUT_S8 ? -3 : 120, min: variant.min, max: variant.max,
                                    columnBias: nil)
            e.out_type = variant.type
            e.use_fixed_point = variant.fixedPoint ? 1 : 0
            e.scale_per_column = variant.perColumn ? 1 : 0
            let check = { (e: onboard_q8_epilogue) in
                self.capAtScalar()
                let reference = self.run(c, epilogue: e, elementSize: variant.size, packed: false)
                XCTAssertGreaterThan(Set(reference).count, 16, "variant \(index): the outputs spread")
                var flagged = e
                flagged.b_fits_7_bits = sevenBit ? 1 : 0
                for kernel in Kernel.runnable(list) {
                    kernel.cap()
                    let output = self.run(c, epilogue: flagged, elementSize: variant.size, packed: true)
                    guard output != reference else { continue }
                    let firstDifference = output.indices.first { output[$0] != reference[$0] }.map { $0 / variant.size }
                    XCTFail("\(kernel.name) m\(m) k\(c.k) variant \(index): element \(firstDifference ?? 0) differs")
                }
            }
            colBias.withUnsafeBufferPointer { cb in rowBias.withUnsafeBufferPointer { rb in tileBias.withUnsafeBufferPointer { tb in
                scales.withUnsafeBufferPointer { s in multipliers.withUnsafeBufferPointer { mp in shifts.withUnsafeBufferPointer { sh in
                    floatBias.withUnsafeBufferPointer { fb in
                        e.scale = s.baseAddress
                        e.multiplier = mp.baseAddress
                        e.shift = sh.baseAddress
                        if variant.biases {
                            e.col_bias = cb.baseAddress
                            e.row_bias = rb.baseAddress
                            e.tile_bias = tb.baseAddress
                            e.tile_bias_ld = n
                        }
                        if variant.type == ONBOARD_Q8_OUT_F32 && variant.perColumn { e.f32_bias = fb.baseAddress }
                        check(e)
                    }
                } } }
            } } }
        }
    }

    func test_sevenBitRangeIsDetectedExactly() {
        let inside: [Int8] = [-64, 0, 64, 3, -1, 17]
        XCTAssertTrue(onboard_q8_b_fits_7_bits(inside, 3, 2, 3))
        for outside: Int8 in [-65, 65, -128, 127] {
            var b = inside
            b[4] = outside
            XCTAssertFalse(onboard_q8_b_fits_7_bits(b, 3, 2, 3), "\(outside)")
            XCTAssertTrue(onboard_q8_b_fits_7_bits(b, 3, 1, 3), "row 1 is outside the rows checked")
        }
    }

    /// int32 output beyond the caches takes the non-temporal store path (64-byte aligned rows);
    /// it must give the reference's values, aligned or not.
    func test_largeInt32OutputIsBitIdentical() throws {
        let (m, n, k) = (4200, 256, 8)  // 4.3 MB of int32
        let c = makeCase(m: m, n: n, k: k, seed: 5, extreme: false)
        var e = onboard_q8_epilogue()
        e.out_type = ONBOARD_Q8_OUT_S32
        capAtScalar()
        let reference = run(c, epilogue: e, elementSize: 4, packed: false)
        var weights = [Int8](repeating: 0, count: onboard_q8_packed_size(k, n))
        onboard_q8_pack_b(c.b, n, false, k, n, &weights, nil)
        for kernel in kernels {
            kernel.cap()
            for offset in [0, 4] {
                let buffer = AlignedBuffer(byteCount: m * n * 4 + 64)
                let out = buffer.pointer + offset
                onboard_q8_gemm(m, n, k, c.a, k, weights, &e, out, n, 0, n / 16)
                XCTAssertEqual(Array(UnsafeRawBufferPointer(start: out, count: m * n * 4)), reference, "\(kernel.name) offset \(offset)")
            }
        }
    }

    /// Each group of `width` columns written into a buffer of its own equals those columns of `whole`
    /// (the product written at once, elements of `size` bytes).
    func checkPanelsInto(_ c: Case, weights: [Int8], epilogue: onboard_q8_epilogue, width: Int, size: Int, whole: [UInt8],
                         _ label: String) {
        var e = epilogue
        for group in 0..<(c.n / width) {
            var block = [UInt8](repeating: 0xAB, count: c.m * width * size)
            block.withUnsafeMutableBytes {
                onboard_q8_gemm_panels_into(c.m, c.n, c.k, c.a, c.k, weights, &e, $0.baseAddress, width,
                                            group * width / 16, (group + 1) * width / 16)
            }
            var expected: [UInt8] = []
            for row in 0..<c.m {
                let start = (row * c.n + group * width) * size
                expected += whole[start..<(start + width * size)]
            }
            XCTAssertEqual(block, expected, "\(label) group \(group)")
        }
    }

    /// Writing one group of panels into a buffer of its own (an attention head) gives those
    /// columns of the whole product, in u8 (the kernel's own store), s32 and f32 (the shared store).
    func test_panelsWrittenIntoTheirOwnBufferAreThoseColumnsOfTheProduct() {
        let (m, n, k, width) = (29, 96, 70, 32)
        let c = makeCase(m: m, n: n, k: k, seed: 21, extreme: false)
        var weights = [Int8](repeating: 0, count: onboard_q8_packed_size(k, n))
        onboard_q8_pack_b(c.b, n, false, k, n, &weights, nil)
        let colBias = (0..<n).map { Int32($0 * 37 - 1500) }
        let scales = (0..<n).map { 0.0004 + Float($0) * 0.00001 }
        for outType in [ONBOARD_Q8_OUT_U8, ONBOARD_Q8_OUT_S32, ONBOARD_Q8_OUT_F32] {
            let size = outType == ONBOARD_Q8_OUT_U8 ? 1 : 4
            var e = Self.u8Epilogue(zeroPoint: 120, min: 0, max: 255, columnBias: colBias)
            e.out_type = outType
            scales.withUnsafeBufferPointer { e.scale = $0.baseAddress; e.scale_per_column = 1 }
            for kernel in kernels {
                kernel.cap()
                var whole = [UInt8](repeating: 0, count: m * n * size)
                whole.withUnsafeMutableBytes { onboard_q8_gemm(m, n, k, c.a, k, weights, &e, $0.baseAddress, n, 0, n / 16) }
                checkPanelsInto(c, weights: weights, epilogue: e, width: width, size: size, whole: whole,
                                "\(kernel.name) out \(outType.rawValue)")
            }
        }
    }

    func test_epilogueRequantizesClampsAndOutputsFloat() {
        let c = makeCase(m: 5, n: 19, k: 40, seed: 7, extreme: false)
        let colBias = (0..<19).map { Int32($0 * 100 - 900) }
        let rowBias: [Int32] = [5, -5, 50, -50, 0]
        let scales = (0..<19).map { 0.0005 + Float($0) * 0.0001 }
        colBias.withUnsafeBufferPointer { cb in rowBias.withUnsafeBufferPointer { rb in scales.withUnsafeBufferPointer { sc in
            var e = Self.u8Epilogue(zeroPoint: 100, min: 30, max: 250, columnBias: cb.baseAddress)
            e.row_bias = rb.baseAddress
            e.scale = sc.baseAddress
            e.scale_per_column = 1
            capAtScalar()
            let reference = run(c, epilogue: e, elementSize: 1, packed: false)
            for i in 0..<5 {
                for j in 0..<19 {
                    var acc: Int32 = 0
                    for t in 0..<40 { acc += Int32(c.a[i * 40 + t]) * Int32(c.b[t * 19 + j]) }
                    let v = Float(acc + colBias[j] + rowBias[i]) * scales[j]
                    let expected = min(max(Int32(v.rounded(.toNearestOrEven)) + 100, 30), 250)
                    XCTAssertEqual(Int32(reference[i * 19 + j]), expected, "\(i),\(j)")
                }
            }
            for kernel in kernels {
                kernel.cap()
                XCTAssertEqual(run(c, epilogue: e, elementSize: 1, packed: true), reference, kernel.name)
            }
            e.out_type = ONBOARD_Q8_OUT_F32
            capAtScalar()
            let floats = run(c, epilogue: e, elementSize: 4, packed: true)
            floats.withUnsafeBytes { raw in
                let y = raw.bindMemory(to: Float.self)
                var acc: Int32 = 0
                for t in 0..<40 { acc += Int32(c.a[t]) * Int32(c.b[t * 19]) }
                XCTAssertEqual(y[0], Float(acc + colBias[0] + rowBias[0]) * scales[0])
            }
        } } }
    }

    /// A bias per output element joins the int32 sum before the requantization, on every kernel and
    /// out type, and in panels written into a buffer of their own it is indexed by the product's columns.
    func test_elementBiasIsAddedToEachAccumulator() {
        let (m, n, k, width) = (29, 64, 37, 32)
        let c = makeCase(m: m, n: n, k: k, seed: 31, extreme: false)
        let colBias = (0..<n).map { Int32($0 * 23 - 700) }
        let elementBias = (0..<(m * n)).map { Int32(($0 * 7919) % 4001 - 2000) }
        let scales = (0..<n).map { 0.0004 + Float($0) * 0.00001 }
        var weights = [Int8](repeating: 0, count: onboard_q8_packed_size(k, n))
        onboard_q8_pack_b(c.b, n, false, k, n, &weights, nil)
        colBias.withUnsafeBufferPointer { cb in elementBias.withUnsafeBufferPointer { eb in scales.withUnsafeBufferPointer { sc in
            for outType in [ONBOARD_Q8_OUT_U8, ONBOARD_Q8_OUT_S32, ONBOARD_Q8_OUT_F32] {
                let size = outType == ONBOARD_Q8_OUT_U8 ? 1 : 4
                var e = Self.u8Epilogue(zeroPoint: 110, min: 0, max: 255, columnBias: cb.baseAddress)
                e.scale = sc.baseAddress
                e.scale_per_column = 1
                e.out_type = outType
                capAtScalar()
                let plain = run(c, epilogue: e, elementSize: size, packed: false)
                e.tile_bias = eb.baseAddress
                e.tile_bias_ld = n
                let reference = run(c, epilogue: e, elementSize: size, packed: false)
                if outType == ONBOARD_Q8_OUT_S32 {
                    plain.withUnsafeBytes { p in reference.withUnsafeBytes { r in
                        let without = p.bindMemory(to: Int32.self), with = r.bindMemory(to: Int32.self)
                        for i in 0..<(m * n) { XCTAssertEqual(with[i], without[i] + elementBias[i], "element \(i)") }
                    } }
                } else {
                    XCTAssertNotEqual(reference, plain, "out \(outType.rawValue)")
                }
                for kernel in kernels {
                    kernel.cap()
                    XCTAssertEqual(run(c, epilogue: e, elementSize: size, packed: true), reference, "\(kernel.name) out \(outType.rawValue)")
                    checkPanelsInto(c, weights: weights, epilogue: e, width: width, size: size, whole: reference,
                                    "\(kernel.name) out \(outType.rawValue)")
                }
            }
        } } }
    }

    func test_fixedPointMultiplyMatchesGemmlowp() {
        // Doubling high multiply with rounding, then a rounding right shift.
        XCTAssertEqual(onboard_q8_fixed_point_multiply(1000, 1 << 30, 0), 500)
        XCTAssertEqual(onboard_q8_fixed_point_multiply(1001, 1 << 30, 0), 501)   // ties go up:
        XCTAssertEqual(onboard_q8_fixed_point_multiply(-1001, 1 << 30, 0), -500) // -500.5 -> -500
        XCTAssertEqual(onboard_q8_fixed_point_multiply(1000, 1 << 30, 2), 125)
        XCTAssertEqual(onboard_q8_fixed_point_multiply(1002, 1 << 30, 2), 125)   // 125.25
        XCTAssertEqual(onboard_q8_fixed_point_multiply(1004, 1 << 30, 2), 126)   // 125.5 rounds up
        XCTAssertEqual(onboard_q8_fixed_point_multiply(Int32.min, Int32.min, 0), Int32.max)
    }

    /// gemmlowp's SaturatingRoundingDoublingHighMul + RoundingDivideByPOT as written there (nudge
    /// by sign, division toward zero): the oracle of the branch-free kernel version.
    static func gemmlowpMultiply(_ x: Int32, _ multiplier: Int32, _ shift: Int32) -> Int32 {
        let high: Int32
        if x == .min && multiplier == .min {
            high = .max
        } else {
            let product = Int64(x) * Int64(multiplier)
            high = Int32((product + (product >= 0 ? 1 << 30 : 1 - (1 << 30))) / (1 << 31))
        }
        guard shift > 0 else { return high }
        let mask = Int32((1 << shift) - 1), remainder = high & mask
        return (high >> shift) + (remainder > (mask >> 1) + (high < 0 ? 1 : 0) ? 1 : 0)
    }

    func test_fixedPointMultiplyEqualsGemmlowpOnRandomValues() {
        var g = SplitMix64(seed: 31)
        for index in 0..<200_000 {
            let x = Int32(truncatingIfNeeded: g.next()) >> Int32(g.next() % 31)
            let multiplier = index % 7 == 0 ? Int32(truncatingIfNeeded: g.next()) : Int32(1 << 30) + Int32(g.next() % (1 << 30))
            let shift = Int32(g.next() % 32)
            XCTAssertEqual(onboard_q8_fixed_point_multiply(x, multiplier, shift), Self.gemmlowpMultiply(x, multiplier, shift),
                           "x \(x) multiplier \(multiplier) shift \(shift)")
        }
    }

    /// The fixed-point u8 epilogue (per tensor and per column) on every kernel equals the reference.
    func test_fixedPointEpilogueIsBitIdenticalOnEveryPath() {
        var g = SplitMix64(seed: 17)
        for (m, n, k) in [(13, 17, 64), (25, 48, 257), (12, 32, 256), (1, 5, 3)] {
            let c = makeCase(m: m, n: n, k: k, seed: UInt64(m * n), extreme: false)
            let multipliers = (0..<n).map { _ in Int32(1 << 30) + Int32(g.next() % (1 << 30)) }
            let shifts = (0..<n).map { _ in Int32(8 + g.next() % 6) }
            let colBias = (0..<n).map { _ in Int32(truncatingIfNeeded: g.next() % 20001) - 10000 }
            for perColumn in [false, true] {
                multipliers.withUnsafeBufferPointer { mp in shifts.withUnsafeBufferPointer { sp in colBias.withUnsafeBufferPointer { cb in
                    var e = Self.u8Epilogue(zeroPoint: 120, min: 0, max: 255, columnBias: cb.baseAddress)
                    e.use_fixed_point = 1
                    e.multiplier = mp.baseAddress
                    e.shift = sp.baseAddress
                    e.scale_per_column = perColumn ? 1 : 0
                    capAtScalar()
                    let reference = run(c, epilogue: e, elementSize: 1, packed: false)
                    XCTAssertGreaterThan(Set(reference).count, min(m * n / 4, 32), "the codes spread over the range")
                    for i in 0..<m {
                        var acc: Int32 = colBias[0]
                        for t in 0..<k { acc += Int32(c.a[i * k + t]) * Int32(c.b[t * n]) }
                        let expected = min(max(Self.gemmlowpMultiply(acc, multipliers[0], shifts[0]) + 120, 0), 255)
                        XCTAssertEqual(Int32(reference[i * n]), expected, "row \(i)")
                    }
                    for kernel in kernels {
                        kernel.cap()
                        XCTAssertEqual(run(c, epilogue: e, elementSize: 1, packed: true), reference, "\(kernel.name) m\(m) n\(n) k\(k)")
                    }
                } } }
            }
        }
    }

    func test_codecsRoundHalfToEvenAndClamp() {
        let x: [Float] = [0, 0.5, 1.5, 2.5, -0.5, 1000, -1000, .nan, .infinity]
        var y = [UInt8](repeating: 0, count: x.count)
        onboard_q8_quantize_u8(x, &y, x.count, 1, 10, 0, 255)
        XCTAssertEqual(y, [10, 10, 12, 12, 10, 255, 0, 0, 255])
        var back = [Float](repeating: 0, count: 3)
        onboard_q8_dequantize_u8([10, 12, 0], &back, 3, 0.5, 10)
        XCTAssertEqual(back, [0, 1, -5])
    }

    /// B handed over transposed ([N, K] rows, as attention's Kᵀ is) packs to the same bytes as the
    /// explicit [K, N] matrix on every packing kernel, for depths and widths off the 4- and 16-multiples and for
    /// u8 codes (flipped to int8) as well as int8 ones; both give each column's sum of int8 values.
    func test_transposedPackingEqualsPackingTheTranspose() {
        var g = SplitMix64(seed: 77)
        for (k, n) in [(1, 1), (3, 5), (4, 16), (31, 33), (32, 160), (33, 200), (64, 70)] {
            let ldt = k + 3  // padded source rows
            let transposed = (0..<(n * ldt)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            var plain = [UInt8](repeating: 0, count: k * n)
            for col in 0..<n { for d in 0..<k { plain[d * n + col] = transposed[col * ldt + d] } }
            let size = onboard_q8_packed_size(k, n)
            for unsigned in [false, true] {
                let flip: UInt8 = unsigned ? 0x80 : 0
                let sums = (0..<n).map { col in (0..<k).reduce(Int32(0)) { $0 + Int32(Int8(bitPattern: transposed[col * ldt + $1] ^ flip)) } }
                var reference: [Int8]?
                for kernel in Kernel.runnable("q8_pack_transposed") + Kernel.runnable("q8_packed_column_sums") {
                    kernel.cap()
                    var expected = [Int8](repeating: 99, count: size), got = [Int8](repeating: -99, count: size)
                    var expectedSums = [Int32](repeating: 0, count: n), gotSums = [Int32](repeating: 1, count: n)
                    plain.withUnsafeBytes { p in transposed.withUnsafeBytes { t in
                        let p8 = p.baseAddress!.assumingMemoryBound(to: Int8.self), t8 = t.baseAddress!.assumingMemoryBound(to: Int8.self)
                        if unsigned {
                            onboard_q8_pack_b_u8(plain, n, false, k, n, &expected, &expectedSums)
                            onboard_q8_pack_b_u8(transposed, ldt, true, k, n, &got, &gotSums)
                        } else {
                            onboard_q8_pack_b(p8, n, false, k, n, &expected, &expectedSums)
                            onboard_q8_pack_b(t8, ldt, true, k, n, &got, &gotSums)
                        }
                    } }
                    let context = "\(kernel.name) k \(k) n \(n) u8 \(unsigned)"
                    XCTAssertEqual(got, expected, context)
                    XCTAssertEqual(gotSums, sums, context)
                    XCTAssertEqual(expectedSums, sums, context)
                    if let reference { XCTAssertEqual(got, reference, context) } else { reference = got }
                }
            }
        }
    }

    /// The integer adds equal their int64 formula on every kernel, for shifts inside and outside the
    /// vector kernels' 17...46, multipliers of either sign up to the int32 limits and ragged lengths.
    func test_dyadicAddsMatchTheirFormulaOnEveryKernel() {
        var g = SplitMix64(seed: 91)
        func expected(_ sum: Int64, shift: Int32, zero: Int32, low: Int32, high: Int32) -> UInt8 {
            let v = ((sum + (Int64(1) << (shift - 1))) >> Int64(shift)) + Int64(zero)
            return UInt8(min(max(v, Int64(low)), Int64(high)))
        }
        for n in [1, 15, 16, 17, 100] {
            let a = (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }, b = (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            let addend = (0..<n).map { _ in Int32(truncatingIfNeeded: g.next()) >> Int32(g.next() % 24) }
            for (ma, mb, shift) in [(Int32(1 << 29), Int32(-(1 << 28)), Int32(29)), (Int32.max, Int32.min + 1, 31), (1_234_567, 7_654_321, 17),
                                    (-987_654_321, 123_456_789, 46), (77_777, -55_555, 16), (Int32(1 << 30), Int32(1 << 30), 47), (3, 5, 1)] {
                let (za, zb, zy, low, high) = (Int32(g.next() % 256), Int32(g.next() % 256), Int32(g.next() % 256), Int32(3), Int32(250))
                let sums = (0..<n).map { Int64(ma) * Int64(Int32(a[$0]) - za) + Int64(mb) * Int64(Int32(b[$0]) - zb) }
                let constSums = (0..<n).map { Int64(ma) * Int64(Int32(a[$0]) - za) + Int64(addend[$0]) }
                for kernel in Kernel.runnable("q8_add_u8_dyadic") + Kernel.runnable("q8_add_const_u8_dyadic") {
                    kernel.cap()
                    var y = [UInt8](repeating: 0, count: n), yc = [UInt8](repeating: 0, count: n)
                    onboard_q8_add_u8_dyadic(a, za, ma, b, zb, mb, shift, &y, n, zy, low, high)
                    onboard_q8_add_const_u8_dyadic(a, za, ma, addend, shift, &yc, n, zy, low, high)
                    let context = "\(kernel.name) n \(n) shift \(shift) multipliers \(ma) \(mb)"
                    XCTAssertEqual(y, sums.map { expected($0, shift: shift, zero: zy, low: low, high: high) }, context)
                    XCTAssertEqual(yc, constSums.map { expected($0, shift: shift, zero: zy, low: low, high: high) }, context)
                }
            }
        }
    }
}
