import CKernels
import OnboardTestSupport
import XCTest

/// The packed GEMM, on every kernel this CPU has, against the scalar reference.
final class F32GemmTests: XCTestCase {
    override func tearDown() { onboard_f32_set_isa_cap(~0) }

    func check(m: Int, n: Int, k: Int, transposed: Bool, bias: Bool, strided: Bool, seed: UInt64) {
        var random = TestRandom(seed: seed)
        let lda = strided ? k + 3 : k, ldc = strided ? n + 5 : n
        let a = random.floats(max(m * lda, 1))
        let b = random.floats(max(k * n, 1))  // [K, N] row-major
        let bt = (0..<(n * k)).map { i in b[(i % k) * n + i / k] }  // [N, K]
        let biasValues = random.floats(max(n, 1))
        var expected = [Float](repeating: 0, count: max(m * ldc, 1))
        onboard_f32_gemm__scalar(m, n, k, a, lda, b, n, bias ? biasValues : nil, &expected, ldc)
        let nr = onboard_f32_gemm_nr()
        var packed = [Float](repeating: .nan, count: max(onboard_f32_gemm_packed_size(k, n, nr), 1))
        if transposed {
            onboard_f32_gemm_pack_b(bt, k, true, k, n, nr, &packed)
        } else {
            onboard_f32_gemm_pack_b(b, n, false, k, n, nr, &packed)
        }
        var actual = [Float](repeating: 7, count: max(m * ldc, 1))
        let panels = (n + nr - 1) / nr
        // Two calls over disjoint panel ranges, as threads do.
        onboard_f32_gemm_packed(m, n, k, a, lda, packed, nr, bias ? biasValues : nil, &actual, ldc, 0, panels / 2)
        onboard_f32_gemm_packed(m, n, k, a, lda, packed, nr, bias ? biasValues : nil, &actual, ldc, panels / 2, panels)
        for i in 0..<m {
            for j in 0..<n {
                let e = expected[i * ldc + j], x = actual[i * ldc + j]
                XCTAssertEqual(x, e, accuracy: 1e-5 * Float(k + 1).squareRoot() * 4, "m\(m) n\(n) k\(k) at \(i),\(j) nr\(nr)")
            }
            // Padding columns of C are untouched.
            for j in n..<ldc { XCTAssertEqual(actual[i * ldc + j], 7) }
        }
    }

    func test_matchesScalarOnOddShapesForEveryISA() {
        let flags = onboard_cpu_isa_flags()
        var caps: [UInt32] = [0]
        if flags & ONBOARD_ISA_AVX2.rawValue != 0 { caps.append(ONBOARD_ISA_AVX2.rawValue) }
        if flags & ONBOARD_ISA_AVX512F.rawValue != 0 { caps.append(ONBOARD_ISA_AVX2.rawValue | ONBOARD_ISA_AVX512F.rawValue) }
        let shapes = [(1, 1, 1), (1, 33, 7), (13, 17, 5), (12, 32, 256), (25, 65, 300), (7, 16, 513), (197, 64, 64), (3, 5, 0)]
        for cap in caps {
            onboard_f32_set_isa_cap(cap)
            for (index, (m, n, k)) in shapes.enumerated() {
                check(m: m, n: n, k: k, transposed: index % 2 == 0, bias: index % 3 != 1, strided: index % 2 == 1, seed: UInt64(index))
            }
        }
    }

    func test_panelWidthFollowsTheCap() {
        onboard_f32_set_isa_cap(0)
        XCTAssertEqual(onboard_f32_gemm_nr(), 16)
        onboard_f32_set_isa_cap(~0)
        let avx512 = onboard_cpu_isa_flags() & ONBOARD_ISA_AVX512F.rawValue != 0
        XCTAssertEqual(onboard_f32_gemm_nr(), avx512 ? 32 : 16)
    }
}
