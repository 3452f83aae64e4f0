import CKernels
import OnboardTestSupport
import XCTest

/// The packed GEMM, on every kernel this CPU has, against the scalar reference.
final class F32GemmTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    func check(m: Int, n: Int, k: Int, nr: Int, transposed: Bool, bias: Bool, strided: Bool, seed: UInt64) {
        var random = TestRandom(seed: seed)
        let lda = strided ? k + 3 : k, ldc = strided ? n + 5 : n
        let a = random.floats(max(m * lda, 1))
        let b = random.floats(max(k * n, 1))  // [K, N] row-major
        let bt = (0..<(n * k)).map { i in b[(i % k) * n + i / k] }  // [N, K]
        let biasValues = random.floats(max(n, 1))
        var expected = [Float](repeating: 0, count: max(m * ldc, 1))
        onboard_f32_gemm__scalar(m, n, k, a, lda, b, n, bias ? biasValues : nil, &expected, ldc)
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

    func test_matchesScalarOnOddShapesForEveryKernel() {
        let shapes = [(1, 1, 1), (1, 33, 7), (13, 17, 5), (12, 32, 256), (25, 65, 300), (7, 16, 513), (197, 64, 64), (3, 5, 0)]
        for kernel in Kernel.runnable("f32_gemm") {
            kernel.cap()
            XCTAssertEqual(onboard_f32_gemm_nr(), kernel.nr, kernel.name)
            for (index, (m, n, k)) in shapes.enumerated() {
                check(m: m, n: n, k: k, nr: kernel.nr, transposed: index % 2 == 0, bias: index % 3 != 1, strided: index % 2 == 1,
                      seed: UInt64(index))
            }
        }
    }

    func test_panelWidthFollowsTheCap() {
        onboard_isa_set_cap(0)
        XCTAssertEqual(onboard_f32_gemm_nr(), 16)
        Kernel.removeCap()
        let avx512 = onboard_cpu_isa_flags() & ONBOARD_ISA_AVX512F.rawValue != 0
        XCTAssertEqual(onboard_f32_gemm_nr(), avx512 ? 32 : 16)
        XCTAssertEqual(onboard_f32_gemm_widest_nr(), avx512 ? 32 : 16)
    }

    /// B packed under a wider cap than the one set later still multiplies correctly (by the kernel
    /// it was packed for): a layout cannot follow the cap.
    func test_aCapLoweredAfterPackingKeepsTheProduct() {
        Kernel.removeCap()
        let nr = onboard_f32_gemm_nr()
        onboard_isa_set_cap(0)
        check(m: 13, n: 40, k: 70, nr: nr, transposed: false, bias: true, strided: false, seed: 3)
    }
}
