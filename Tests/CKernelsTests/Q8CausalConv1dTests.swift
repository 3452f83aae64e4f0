import CKernels
import OnboardCore
import XCTest

/// Mamba's conv1d sums on every kernel of their list against the int64 formula, and the driver that
/// runs them through the GEMM epilogue.
final class Q8CausalConv1dTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    /// sum_k w[k][c] (x[s][c] - z) over the taps whose source s lies in [0, length).
    func expected(_ x: [UInt8], _ w: [Int8], length: Int, channels: Int, taps: Int, zero: Int32, reverse: Bool, t: Int, c: Int) -> Int64 {
        (0..<taps).reduce(Int64(0)) { sum, k in
            let s = reverse ? t + (taps - 1) - k : t - (taps - 1) + k
            guard (0..<length).contains(s) else { return sum }
            return sum + Int64(w[k * channels + c]) * Int64(Int32(x[s * channels + c]) - zero)
        }
    }

    func test_sumsMatchTheirFormulaOnEveryKernel() {
        var g = SplitMix64(seed: 17)
        for (length, channels, taps) in [(1, 1, 1), (5, 7, 4), (9, 40, 4), (3, 33, 6), (16, 64, 2)] {
            let x = (0..<length * channels).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            let w = (0..<taps * channels).map { _ in Int8(truncatingIfNeeded: g.next() | 1) }
            let zero = Int32(g.next() % 256)
            for reverse in [false, true] {
                // rows 1..<length-1 of columns 1..<channels-1 where there are, a block in the middle of the tensor
                let (t0, c0) = (length > 2 ? 1 : 0, channels > 2 ? 1 : 0)
                let (rows, cols) = (max(length - 2 * t0, 1), max(channels - 2 * c0, 1))
                let ld = cols + 3
                for kernel in Kernel.runnable("q8_causal_conv1d_s32") {
                    kernel.cap()
                    var acc = [Int32](repeating: -7, count: rows * ld)
                    onboard_q8_causal_conv1d_s32(x, length, channels, zero, w, taps, reverse ? 1 : 0, t0, rows, c0, cols, &acc, ld)
                    for r in 0..<rows {
                        for j in 0..<ld {
                            let context = "\(kernel.name) \(length)x\(channels) taps \(taps) reverse \(reverse) row \(r) column \(j)"
                            guard j < cols else { XCTAssertEqual(acc[r * ld + j], -7, context); continue }
                            let sum = expected(x, w, length: length, channels: channels, taps: taps, zero: zero, reverse: reverse,
                                               t: t0 + r, c: c0 + j)
                            XCTAssertEqual(Int64(acc[r * ld + j]), sum, context)
                        }
                    }
                }
            }
        }
    }

    /// Rows of a sequence through the epilogue: u8 codes with a per-channel bias and scale, and f32
    /// with a float bias added after the scale.
    func test_driverAppliesTheEpiloguePerChannel() {
        var g = SplitMix64(seed: 29)
        let (length, channels, taps) = (11, 70, 4)
        let x = (0..<length * channels).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let w = (0..<taps * channels).map { _ in Int8(truncatingIfNeeded: g.next() | 1) }
        let bias = (0..<channels).map { _ in Int32(g.next() % 2001) - 1000 }
        let scales = (0..<channels).map { Float($0 + 1) * 1e-4 }
        let floatBias = (0..<channels).map { Float($0 % 7) * 0.37 - 1 }
        for reverse in [false, true] {
            var codes = [UInt8](repeating: 0, count: length * channels), floats = [Float](repeating: 0, count: length * channels)
            bias.withUnsafeBufferPointer { b in
                scales.withUnsafeBufferPointer { s in
                    var e = onboard_q8_epilogue()
                    e.col_bias = b.baseAddress
                    e.scale = s.baseAddress
                    e.scale_per_column = 1
                    e.out_zero_point = 120
                    e.out_min = 0
                    e.out_max = 255
                    e.out_type = ONBOARD_Q8_OUT_U8
                    // two calls over [0, 4) and [4, length): a thread's share of the rows
                    onboard_q8_causal_conv1d(x, length, channels, 9, w, taps, reverse ? 1 : 0, 0, 4, &e, &codes)
                    codes.withUnsafeMutableBufferPointer { rows in  // y starts at the call's first row
                        onboard_q8_causal_conv1d(x, length, channels, 9, w, taps, reverse ? 1 : 0, 4, length, &e, rows.baseAddress! + 4 * channels)
                    }
                    e.out_type = ONBOARD_Q8_OUT_F32
                    floatBias.withUnsafeBufferPointer { fb in
                        e.f32_bias = fb.baseAddress
                        onboard_q8_causal_conv1d(x, length, channels, 9, w, taps, reverse ? 1 : 0, 0, length, &e, &floats)
                    }
                }
            }
            for t in 0..<length {
                for c in 0..<channels {
                    let sum = expected(x, w, length: length, channels: channels, taps: taps, zero: 9, reverse: reverse, t: t, c: c)
                    let value = Float(Int32(sum) + bias[c]) * scales[c]
                    let code = UInt8(min(max(Int32(value.rounded(.toNearestOrEven)) + 120, 0), 255))
                    XCTAssertEqual(codes[t * channels + c], code, "reverse \(reverse) t \(t) c \(c)")
                    XCTAssertEqual(floats[t * channels + c], value + floatBias[c], "reverse \(reverse) t \(t) c \(c)")
                }
            }
        }
    }
}
