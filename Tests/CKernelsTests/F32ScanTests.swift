import CKernels
import Foundation
import OnboardTestSupport
import XCTest

/// Every selective scan kernel this CPU has against the scan written out in double precision.
final class F32ScanTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    /// Error allowed per output, relative to the output's magnitude (ScanCase.reference).
    let tolerance = 1e-5

    /// One scan's inputs, token-major with padded strides (as views into wider buffers).
    struct ScanCase {
        let length: Int, state: Int, channels: Int, range: Range<Int>, reverse: Bool
        let uStride: Int, dtStride: Int, bcStride: Int, zStride: Int, yStride: Int
        var u: [Float], dt: [Float], dtBias: [Float]?, a: [Float], b: [Float], c: [Float], d: [Float], z: [Float]?
        /// Per-channel s of the scaled SiLU gate z · sigmoid(s · z); nil: SiLU.
        var gateScale: [Float]?

        init(length: Int, state: Int, channels: Int, range: Range<Int>, reverse: Bool, gated: Bool, biased: Bool,
             dtScale: Float, seed: UInt64, scaledGate: Bool = false) {
            var random = TestRandom(seed: seed)
            (self.length, self.state, self.channels, self.range, self.reverse) = (length, state, channels, range, reverse)
            (uStride, dtStride, bcStride, zStride, yStride) = (channels + 3, channels + 1, state + 5, 2 * channels, channels + 2)
            u = random.floats(length * uStride)
            dt = random.floats(length * dtStride, scale: dtScale).map { $0 - 2 }
            dtBias = biased ? random.floats(channels, scale: 0.5) : nil
            // A = -exp(A_log) with A_log around log(1...state), Mamba's initialisation.
            a = (0..<(channels * state)).map { -exp(log(Float($0 % max(state, 1) + 1)) + 0.3 * random.generator.nextGaussian()) }
            b = random.floats(length * bcStride)
            c = random.floats(length * bcStride)
            d = random.floats(channels)
            z = gated ? random.floats(length * zStride, scale: 2) : nil
            gateScale = scaledGate ? (0..<channels).map { _ in Float(exp(0.8 * random.generator.nextGaussian())) } : nil
        }

        /// The scan in double precision, and each output's magnitude: the same sums over absolute
        /// values (what rounding errors scale with).
        func reference() -> (y: [Double], magnitude: [Double]) {
            var y = [Double](repeating: 0, count: length * yStride), magnitude = y
            for ch in range {
                var h = [Double](repeating: 0, count: state), hAbs = h
                for step in 0..<length {
                    let t = reverse ? length - 1 - step : step
                    let x = Double(dt[t * dtStride + ch]) + Double(dtBias?[ch] ?? 0)
                    let delta = x > 20 ? x : log1p(exp(x)), v = Double(u[t * uStride + ch])
                    var out = Double(d[ch]) * v, bound = abs(out)
                    for n in 0..<state {
                        let decay = exp(delta * Double(a[ch * state + n])), input = delta * Double(b[t * bcStride + n]) * v
                        h[n] = decay * h[n] + input
                        hAbs[n] = decay * hAbs[n] + abs(input)
                        out += h[n] * Double(c[t * bcStride + n])
                        bound += hAbs[n] * abs(Double(c[t * bcStride + n]))
                    }
                    if let z {
                        let gate = Double(z[t * zStride + ch])
                        let silu = gate / (1 + exp(-Double(gateScale?[ch] ?? 1) * gate))
                        (out, bound) = (out * silu, bound * abs(silu))
                    }
                    (y[t * yStride + ch], magnitude[t * yStride + ch]) = (out, bound)
                }
            }
            return (y, magnitude)
        }

        /// The kernel's output; y starts as NaN everywhere, so outputs it leaves unwritten show.
        func run() -> [Float] {
            var y = [Float](repeating: .nan, count: length * yStride)
            let (bias, gate, scale) = (dtBias, z, gateScale)
            withOptionalPointer(bias) { biasPointer in
                withOptionalPointer(gate) { gatePointer in
                    withOptionalPointer(scale) { scalePointer in
                        onboard_f32_selective_scan(length, state, range.lowerBound, range.upperBound, reverse ? 1 : 0,
                                                   u, uStride, dt, dtStride, biasPointer, a, b, c, bcStride, d,
                                                   gatePointer, zStride, scalePointer, &y, yStride)
                    }
                }
            }
            return y
        }
    }

    func check(_ scan: ScanCase, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let (expected, magnitude) = scan.reference()
        for kernel in Kernel.runnable("f32_selective_scan") {
            kernel.cap()
            let y = scan.run()
            var worst = 0.0, writtenOutside = 0
            for t in 0..<scan.length {
                for ch in 0..<scan.yStride {
                    let i = t * scan.yStride + ch
                    if !scan.range.contains(ch) {
                        writtenOutside += y[i].isNaN ? 0 : 1
                        continue
                    }
                    worst = max(worst, abs(Double(y[i]) - expected[i]) / (magnitude[i] + 1e-30))
                }
            }
            XCTAssertLessThanOrEqual(worst, tolerance, "\(kernel.name) \(label)", file: file, line: line)
            XCTAssertEqual(writtenOutside, 0, "\(kernel.name) \(label): outputs written outside channels \(scan.range)", file: file, line: line)
        }
    }

    func test_everyDirectionGateAndBiasOnOddShapes() {
        var seed: UInt64 = 1
        for (length, state) in [(1, 1), (7, 16), (197, 16), (33, 5), (20, 17), (13, 33), (5, 0), (64, 8)] {
            for reverse in [false, true] {
                for (gated, biased, scaled) in [(true, true, false), (false, false, false), (true, false, false), (false, true, false),
                                                (true, true, true)] {
                    let channels = 37
                    let scan = ScanCase(length: length, state: state, channels: channels, range: 0..<channels, reverse: reverse,
                                        gated: gated, biased: biased, dtScale: 1, seed: seed, scaledGate: scaled)
                    check(scan, "L \(length) N \(state) reverse \(reverse) z \(gated) bias \(biased) scaled gate \(scaled)")
                    seed += 1
                }
            }
        }
    }

    /// A sub-range of channels (as threads split them) writes those channels of y and no others.
    func test_channelRangesLeaveTheOtherChannelsUntouched() {
        for (index, range) in [3..<4, 5..<22, 0..<16, 16..<48, 1..<47, 40..<48].enumerated() {
            let scan = ScanCase(length: 19, state: 16, channels: 48, range: range, reverse: index % 2 == 1,
                                gated: true, biased: true, dtScale: 1, seed: 100 + UInt64(index))
            check(scan, "channels \(range)")
        }
    }

    /// dt around softplus's threshold at 20, far above it, and far below (delta underflows to 0).
    func test_largeAndNegativeDeltaAroundTheSoftplusThreshold() {
        for (index, dtScale) in [Float(15), 40, 120].enumerated() {
            var scan = ScanCase(length: 41, state: 16, channels: 24, range: 0..<24, reverse: index == 1,
                                gated: true, biased: false, dtScale: dtScale, seed: 200 + UInt64(index))
            for (i, value) in [Float(19.99), 20, 20.01, 21, -20, -60, -100, 88, 100].enumerated() {
                scan.dt[i * 7 % scan.dt.count] = value
            }
            check(scan, "dt scale \(dtScale)")
        }
    }

    /// A hand-computed case: one channel, one state, two tokens, no gate.
    func test_scalarReferenceOnAHandComputedCase() {
        let u: [Float] = [1, 2], dt: [Float] = [0, 30], a: [Float] = [-1], b: [Float] = [0.5, 1], c: [Float] = [2, -1], d: [Float] = [0.25]
        var y: [Float] = [0, 0]
        _ = onboard_f32_selective_scan__scalar(2, 1, 0, 1, 0, u, 1, dt, 1, nil, a, b, c, 1, d, nil, 1, nil, &y, 1)
        let delta0 = log(2.0), h0 = delta0 * 0.5 * 1
        let h1 = exp(-30.0) * h0 + 30 * 1 * 2
        XCTAssertEqual(Double(y[0]), h0 * 2 + 0.25, accuracy: 1e-6)
        XCTAssertEqual(Double(y[1]), -h1 + 0.5, accuracy: 1e-4)
    }
}

/// `body` with a pointer to the array's floats, or nil for no array.
private func withOptionalPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
}
