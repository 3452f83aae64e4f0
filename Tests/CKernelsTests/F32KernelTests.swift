import CKernels
import OnboardTestSupport
import XCTest

/// Every fast FP32 body of the list present on this CPU against the scalar (libm) reference.
final class F32KernelTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    /// Lengths that hit full vectors, tails and the empty case.
    let lengths = [0, 1, 7, 15, 16, 17, 31, 64, 100, 197, 1000]

    func inputs(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var random = TestRandom(seed: seed)
        var values = random.floats(n, scale: scale)
        // Extreme values where they fit.
        let extremes: [Float] = [0, -0.0, 12, -12, 90, -90, 1e-30, -1e-30]
        for (i, e) in extremes.enumerated() where i < n { values[n - 1 - i] = e }
        return values
    }

    typealias Unary = (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void

    func checkUnary(_ name: String, fast: Unary, reference: Unary, absolute: Float, relative: Float) {
        for kernel in Kernel.runnable("f32_\(name)") {
            kernel.cap()
            for n in lengths {
                for scale: Float in [1, 4] {
                    let x = inputs(n, seed: UInt64(n) * 31 + UInt64(scale), scale: scale)
                    var expected = [Float](repeating: 0, count: n), actual = expected
                    reference(x, &expected, n)
                    fast(x, &actual, n)
                    for i in 0..<n {
                        // Absolute error grows with |x|: 0.5·x·(1 + erf) amplifies the last ulps of erf near -1.
                        let tolerance = absolute * (1 + abs(x[i])) + relative * abs(expected[i])
                        XCTAssertEqual(actual[i], expected[i], accuracy: tolerance, "\(kernel.name) n=\(n) x=\(x[i])")
                    }
                }
            }
        }
    }

    func test_geluErf() {
        checkUnary("gelu_erf", fast: onboard_f32_gelu_erf, reference: onboard_f32_gelu_erf__scalar, absolute: 2e-7, relative: 2e-6)
    }

    func test_geluTanh() {
        checkUnary("gelu_tanh", fast: onboard_f32_gelu_tanh, reference: onboard_f32_gelu_tanh__scalar, absolute: 4e-7, relative: 2e-6)
    }

    func test_sigmoidAndSilu() {
        checkUnary("sigmoid", fast: onboard_f32_sigmoid, reference: onboard_f32_sigmoid__scalar, absolute: 1e-7, relative: 2e-6)
        checkUnary("silu", fast: onboard_f32_silu, reference: onboard_f32_silu__scalar, absolute: 1e-7, relative: 2e-6)
    }

    func test_softmaxRows() {
        for kernel in Kernel.runnable("f32_softmax_rows") {
            kernel.cap()
            for n in lengths where n > 0 {
                let rows = 3
                let x = inputs(rows * n, seed: UInt64(n), scale: 6)
                var expected = [Float](repeating: 0, count: rows * n), actual = expected
                onboard_f32_softmax_rows__scalar(x, &expected, rows, n)
                onboard_f32_softmax_rows(x, &actual, rows, n)
                for i in 0..<(rows * n) {
                    XCTAssertEqual(actual[i], expected[i], accuracy: 1e-7 + 2e-6 * expected[i], "\(kernel.name) n=\(n) i=\(i)")
                }
                for r in 0..<rows {
                    XCTAssertEqual(actual[(r * n)..<((r + 1) * n)].reduce(0, +), 1, accuracy: 1e-5)
                }
            }
        }
    }

    func test_softmaxIsShiftInvariantForLargeLogits() {
        let x: [Float] = [1000, 1001, 1002, -1000]
        var y = [Float](repeating: 0, count: 4)
        onboard_f32_softmax_rows(x, &y, 1, 4)
        let e = [exp(-2.0), exp(-1.0), 1.0, 0.0]
        let sum = e.reduce(0, +)
        for i in 0..<4 { XCTAssertEqual(Double(y[i]), e[i] / sum, accuracy: 1e-6) }
    }

    func test_layerNormRows() {
        for kernel in Kernel.runnable("f32_layernorm_rows") {
            kernel.cap()
            for n in lengths where n > 0 {
                let rows = 4
                var x = inputs(rows * n, seed: UInt64(n) + 99, scale: 3)
                for i in 0..<n { x[i] += 50 }  // a row with a large mean
                var random = TestRandom(seed: 5)
                let gamma = random.floats(n), beta = random.floats(n)
                var expected = [Float](repeating: 0, count: rows * n), actual = expected
                onboard_f32_layernorm_rows__scalar(x, &expected, rows, n, gamma, beta, 1e-6)
                onboard_f32_layernorm_rows(x, &actual, rows, n, gamma, beta, 1e-6)
                for i in 0..<(rows * n) {
                    XCTAssertEqual(actual[i], expected[i], accuracy: 2e-5 + 2e-5 * abs(expected[i]), "\(kernel.name) n=\(n) i=\(i)")
                }
            }
        }
    }

    /// n = k·p with p from 1 (butterflies only in scalar code) to 128 (stages across vectors), k = 1
    /// and k = 12 with a ±1 block matrix; the transform of a row is its rotation by (H_k ⊗ H_p)ᵀ / √n.
    func test_hadamardRowsMatchTheDefinition() {
        for kernel in Kernel.runnable("f32_hadamard_rows") {
            kernel.cap()
            for k in [1, 12] {
                var random = TestRandom(seed: UInt64(k))
                let hk: [Float] = k == 1 ? [-1] : random.floats(k * k).map { $0 < 0 ? -1 : 1 }
                for p in [1, 2, 4, 8, 16, 32, 128] {
                    let n = k * p, rows = 3
                    let x = inputs(rows * n, seed: UInt64(n), scale: 4).map { max(-90, min(90, $0)) }
                    var expected = x, actual = x, work = [Float](repeating: 0, count: n)
                    onboard_f32_hadamard_rows__scalar(&expected, rows, n, k, hk, &work)
                    onboard_f32_hadamard_rows(&actual, rows, n, k, hk, &work)
                    for i in 0..<(rows * n) {
                        XCTAssertEqual(actual[i], expected[i], accuracy: 4e-5 * Float(1 + n.trailingZeroBitCount), "\(kernel.name) k=\(k) p=\(p) i=\(i)")
                    }
                    guard k == 1 else { continue }
                    // H_p / √p is orthogonal: every row keeps its norm.
                    for r in 0..<rows {
                        let before = x[(r * n)..<((r + 1) * n)].reduce(0) { $0 + Double($1 * $1) }
                        let after = actual[(r * n)..<((r + 1) * n)].reduce(0) { $0 + Double($1 * $1) }
                        XCTAssertEqual(after, before, accuracy: 1e-5 * before, "\(kernel.name) p=\(p)")
                    }
                }
            }
        }
    }

    func test_scalarGeluMatchesDefinition() {
        let x: [Float] = [-3, -1, 0, 0.5, 2]
        var y = [Float](repeating: 0, count: 5)
        onboard_f32_gelu_erf__scalar(x, &y, 5)
        for i in 0..<5 {
            let v = Double(x[i])
            XCTAssertEqual(Double(y[i]), 0.5 * v * (1 + erf(v / 2.0.squareRoot())), accuracy: 1e-6)
        }
    }

    func test_cpuFeaturesAreConsistent() {
        let flags = onboard_cpu_isa_flags()
        if flags & ONBOARD_ISA_AVX512VNNI.rawValue != 0 { XCTAssertNotEqual(flags & ONBOARD_ISA_AVX512F.rawValue, 0) }
        if flags & ONBOARD_ISA_AVXVNNI.rawValue != 0 { XCTAssertNotEqual(flags & ONBOARD_ISA_AVX2.rawValue, 0) }
        if flags & ONBOARD_ISA_AVX512VBMI.rawValue != 0 { XCTAssertNotEqual(flags & ONBOARD_ISA_AVX512F.rawValue, 0) }
        XCTAssertEqual(onboard_cpu_isa_flags(), flags)
    }
}
