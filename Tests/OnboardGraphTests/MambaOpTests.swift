import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardTestSupport
import XCTest

/// The ops Vision Mamba added (rmsNorm, causalConv1d, selectiveScan) against hand-computed values
/// and loops written from the official definitions (`rms_norm_ref`, `nn.Conv1d` with padding K-1
/// cut to L, `selective_scan_ref`), in Double; the reverse forms against flip, op, flip.
final class MambaOpTests: XCTestCase {
    var random = TestRandom(seed: 29)

    func runOp(_ op: Op, _ inputs: [Tensor], threads: Int = 2) throws -> Tensor {
        let g = GraphBuilder()
        let ids = try inputs.enumerated().map { try g.constant("in\($0.offset)", $0.element) }
        g.markOutput(try g.node(op, ids, name: "out"))
        return try FP32Executor(graph: try g.build(), threads: threads).run([:])["out"]!
    }

    /// Reverses axis 1 of a [B, L, C] tensor.
    func flipped(_ x: Tensor) throws -> Tensor {
        let (batch, length, channels) = (x.shape[0], x.shape[1], x.shape[2])
        let values = x.floats()
        var out = values
        for b in 0..<batch {
            for t in 0..<length {
                for c in 0..<channels { out[(b * length + t) * channels + c] = values[(b * length + length - 1 - t) * channels + c] }
            }
        }
        return try Tensor(shape: x.shape, values: out)
    }

    func assertClose(_ actual: [Float], _ expected: [Double], relative: Float, _ message: String, line: UInt = #line) {
        let (error, magnitude) = maxErrors(actual, expected.map { Float($0) })
        XCTAssertLessThanOrEqual(error, relative * max(magnitude, 1e-3), message, line: line)
        XCTAssertGreaterThan(magnitude, 0, "\(message): degenerate reference", line: line)
    }

    // MARK: RMSNorm

    func test_rmsNormMatchesHandValuesAndTheReference() throws {
        // [3, 4]: mean square 12.5, so y = [3, 4] / sqrt(12.5 + 1e-5) * [1, 2].
        let hand = try runOp(.rmsNorm(epsilon: 1e-5), [try Tensor(shape: [1, 2], values: [3, 4]), try Tensor(shape: [2], values: [1, 2])])
        let scale = 1 / (12.5 + 1e-5).squareRoot()
        XCTAssertEqual(hand.floats()[0], Float(3 * scale), accuracy: 1e-6)
        XCTAssertEqual(hand.floats()[1], Float(8 * scale), accuracy: 1e-6)

        let x = random.gaussian([2, 5, 24], scale: 3), weight = random.gaussian([24])
        var expected: [Double] = []
        let xs = x.floats().map(Double.init), ws = weight.floats().map(Double.init)
        for row in 0..<10 {
            let values = xs[(row * 24)..<(row * 24 + 24)]
            let rms = (values.map { $0 * $0 }.reduce(0, +) / 24 + 1e-6).squareRoot()
            expected += values.enumerated().map { $0.element / rms * ws[$0.offset] }
        }
        for threads in [1, 2] {
            assertClose(try runOp(.rmsNorm(epsilon: 1e-6), [x, weight], threads: threads).floats(), expected, relative: 1e-6, "threads \(threads)")
        }
    }

    // MARK: Causal depthwise conv1d

    /// nn.Conv1d(C, C, K, groups=C, padding=K-1)(x)[..., :L] on token-major x, in Double.
    func referenceCausalConv(_ x: Tensor, _ weight: Tensor, _ bias: Tensor) -> [Double] {
        let (batch, length, channels, taps) = (x.shape[0], x.shape[1], x.shape[2], weight.shape[2])
        let xs = x.floats(), ws = weight.floats(), bs = bias.floats()
        var out = [Double](repeating: 0, count: x.count)
        for b in 0..<batch {
            for t in 0..<length {
                for c in 0..<channels {
                    var sum = Double(bs[c])
                    // Output t of the padded convolution reads padded positions t..t+K-1, i.e.
                    // inputs t-(K-1)..t.
                    for k in 0..<taps where t - (taps - 1) + k >= 0 {
                        sum += Double(ws[c * taps + k]) * Double(xs[(b * length + t - (taps - 1) + k) * channels + c])
                    }
                    out[(b * length + t) * channels + c] = sum
                }
            }
        }
        return out
    }

    func test_causalConv1dMatchesHandValues() throws {
        // One channel, taps [1, 10], bias 0.5 on x = [1, 2, 3]: causal y[t] = 0.5 + x[t-1] + 10 x[t],
        // reverse y[t] = 0.5 + x[t+1] + 10 x[t].
        let x = try Tensor(shape: [1, 3, 1], values: [1, 2, 3])
        let weight = try Tensor(shape: [1, 1, 2], values: [1, 10]), bias = try Tensor(shape: [1], values: [0.5])
        XCTAssertEqual(try runOp(.causalConv1d(reverse: false), [x, weight, bias]).floats(), [10.5, 21.5, 32.5])
        XCTAssertEqual(try runOp(.causalConv1d(reverse: true), [x, weight, bias]).floats(), [12.5, 23.5, 30.5])
    }

    func test_causalConv1dMatchesTorchAndItsReverseIsTheFlippedConvolution() throws {
        for (batch, length, channels, taps) in [(2, 9, 7, 4), (1, 3, 5, 4), (1, 6, 33, 1), (2, 5, 3, 3)] {
            let x = random.gaussian([batch, length, channels])
            let weight = random.gaussian([channels, 1, taps]), bias = random.gaussian([channels])
            let expected = referenceCausalConv(x, weight, bias)
            let expectedReverse = try flipped(try Tensor(shape: x.shape, values: referenceCausalConv(try flipped(x), weight, bias).map { Float($0) }))
            let label = "B\(batch) L\(length) C\(channels) K\(taps)"
            for threads in [1, 2] {
                assertClose(try runOp(.causalConv1d(reverse: false), [x, weight, bias], threads: threads).floats(), expected,
                            relative: 1e-6, label)
                assertClose(try runOp(.causalConv1d(reverse: true), [x, weight, bias], threads: threads).floats(),
                            expectedReverse.floats().map(Double.init), relative: 1e-6, "\(label) reverse")
            }
        }
    }

    // MARK: Selective scan

    struct ScanInputs {
        var u, delta, a, b, c, d, deltaBias: Tensor
        var z: Tensor?

        var all: [Tensor] { [u, delta, a, b, c, d, deltaBias] + (z.map { [$0] } ?? []) }

        /// The token-major tensors flipped along the sequence.
        func flippedInTime(_ flip: (Tensor) throws -> Tensor) throws -> ScanInputs {
            ScanInputs(u: try flip(u), delta: try flip(delta), a: a, b: try flip(b), c: try flip(c), d: d,
                       deltaBias: deltaBias, z: try z.map(flip))
        }
    }

    func randomScan(batch: Int, length: Int, channels: Int, state: Int, gated: Bool) -> ScanInputs {
        // A = -exp(A_log) with A_log around log(1..N), as Mamba initialises it.
        let a = try! Tensor(shape: [channels, state], values: (0..<(channels * state)).map { i in
            -Float(1 + i % state) * Foundation.exp(random.floats(1, scale: 0.3)[0])
        })
        return ScanInputs(u: random.gaussian([batch, length, channels]), delta: random.gaussian([batch, length, channels]),
                          a: a, b: random.gaussian([batch, length, state]), c: random.gaussian([batch, length, state]),
                          d: random.gaussian([channels]), deltaBias: random.gaussian([channels], scale: 2),
                          z: gated ? random.gaussian([batch, length, channels]) : nil)
    }

    /// selective_scan_ref with delta_softplus (channel by channel, in Double).
    func referenceScan(_ s: ScanInputs) -> [Double] {
        let (batch, length, channels, state) = (s.u.shape[0], s.u.shape[1], s.u.shape[2], s.a.shape[1])
        let u = s.u.floats().map(Double.init), delta = s.delta.floats().map(Double.init), a = s.a.floats().map(Double.init)
        let bs = s.b.floats().map(Double.init), cs = s.c.floats().map(Double.init), d = s.d.floats().map(Double.init)
        let bias = s.deltaBias.floats().map(Double.init), z = s.z?.floats().map(Double.init)
        func softplus(_ x: Double) -> Double { x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }
        var out = [Double](repeating: 0, count: s.u.count)
        for sample in 0..<batch {
            for channel in 0..<channels {
                var h = [Double](repeating: 0, count: state)
                for t in 0..<length {
                    let i = (sample * length + t) * channels + channel, row = (sample * length + t) * state
                    let dt = softplus(delta[i] + bias[channel])
                    var y = 0.0
                    for n in 0..<state {
                        h[n] = Foundation.exp(dt * a[channel * state + n]) * h[n] + dt * bs[row + n] * u[i]
                        y += h[n] * cs[row + n]
                    }
                    y += d[channel] * u[i]
                    if let z { y *= z[i] / (1 + Foundation.exp(-z[i])) }
                    out[i] = y
                }
            }
        }
        return out
    }

    func test_selectiveScanMatchesHandValues() throws {
        // One channel, one state, A = -1, B = C = 1, D = 0, delta 0 (softplus = ln 2):
        // h0 = ln2 · 1, h1 = exp(-ln2) · h0 + ln2 · 2 = 0.5 ln2 + 2 ln2 = 2.5 ln2.
        let one = try Tensor(shape: [1, 2, 1], values: [1, 1])
        let inputs = [try Tensor(shape: [1, 2, 1], values: [1, 2]), try Tensor(shape: [1, 2, 1], values: [0, 0]),
                      try Tensor(shape: [1, 1], values: [-1]), one, one, try Tensor(shape: [1], values: [0]),
                      try Tensor(shape: [1], values: [0])]
        let y = try runOp(.selectiveScan(reverse: false), inputs).floats()
        XCTAssertEqual(y[0], Float(Foundation.log(2.0)), accuracy: 1e-6)
        XCTAssertEqual(y[1], Float(2.5 * Foundation.log(2.0)), accuracy: 1e-6)
        // Reverse: h1 = 2 ln2 first, then h0 = 0.5 · 2 ln2 + ln2 = 2 ln2.
        let reverse = try runOp(.selectiveScan(reverse: true), inputs).floats()
        XCTAssertEqual(reverse[1], Float(2 * Foundation.log(2.0)), accuracy: 1e-6)
        XCTAssertEqual(reverse[0], Float(2 * Foundation.log(2.0)), accuracy: 1e-6)
        // delta + bias beyond 20 is taken as is (softplus threshold): h0 = 25 · 1 · 1.
        var large = inputs
        large[1] = try Tensor(shape: [1, 2, 1], values: [25, 0])
        XCTAssertEqual(try runOp(.selectiveScan(reverse: false), large).floats()[0], 25, accuracy: 1e-5)
        // The gate z = 2 with the scaled SiLU s = 0.5: y · 2 · sigmoid(1); s = 1 is SiLU.
        let gated = inputs + [try Tensor(shape: [1, 2, 1], values: [2, 2])]
        let silu = try runOp(.selectiveScan(reverse: false), gated).floats()
        XCTAssertEqual(silu[0], Float(Foundation.log(2.0) * 2 / (1 + Foundation.exp(-2.0))), accuracy: 1e-6)
        let scaled = try runOp(.selectiveScan(reverse: false), gated + [try Tensor(shape: [1], values: [0.5])]).floats()
        XCTAssertEqual(scaled[1], Float(2.5 * Foundation.log(2.0) * 2 / (1 + Foundation.exp(-1.0))), accuracy: 1e-6)
        XCTAssertEqual(try runOp(.selectiveScan(reverse: false), gated + [try Tensor(shape: [1], values: [1])]).floats(), silu)
    }

    func test_selectiveScanMatchesTheReferenceInBothDirections() throws {
        // Channel counts around the op's 32-channel blocks and the kernels' 16- and 32-lane tiles,
        // Vim's state 16, a batch of 2.
        for (batch, length, channels, state, gated) in [(2, 11, 37, 16, true), (1, 5, 16, 3, false), (1, 1, 5, 16, true),
                                                         (2, 20, 48, 16, false), (1, 7, 70, 16, true)] {
            let s = randomScan(batch: batch, length: length, channels: channels, state: state, gated: gated)
            let expected = referenceScan(s)
            let flippedExpected = referenceScan(try s.flippedInTime(flipped))
            let expectedReverse = try flipped(try Tensor(shape: s.u.shape, values: flippedExpected.map { Float($0) })).floats()
            let label = "B\(batch) L\(length) E\(channels) N\(state) gated \(gated)"
            var byThreads: [[Float]] = []
            for threads in [1, 2] {
                let forward = try runOp(.selectiveScan(reverse: false), s.all, threads: threads).floats()
                assertClose(forward, expected, relative: 2e-5, label)
                let reverse = try runOp(.selectiveScan(reverse: true), s.all, threads: threads).floats()
                assertClose(reverse, expectedReverse.map(Double.init), relative: 2e-5, "\(label) reverse")
                byThreads.append(forward + reverse)
            }
            XCTAssertEqual(byThreads[0], byThreads[1], "\(label): results depend on the thread count")
        }
    }

    func test_selectiveScanRejectsMismatchedShapesByName() throws {
        let s = randomScan(batch: 1, length: 4, channels: 3, state: 2, gated: true)
        let g = GraphBuilder()
        var inputs = s.all
        inputs[3] = Tensor(zeros: [1, 4, 5])
        let ids = try inputs.enumerated().map { try g.constant("in\($0.offset)", $0.element) }
        XCTAssertThrowsError(try g.node(.selectiveScan(reverse: false), ids, name: "scan")) { error in
            XCTAssertEqual("\(error)", "node 'scan' (selective_scan): B must be [1, 4, 2], got [1, 4, 5]")
        }
        XCTAssertThrowsError(try g.node(.causalConv1d(reverse: false), [ids[0], ids[2], ids[5]], name: "conv")) { error in
            XCTAssertTrue("\(error)".contains("weight must be [3, 1, kernel], got [3, 2]"), "\(error)")
        }
    }
}
