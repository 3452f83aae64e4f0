import Foundation
import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class SmoothingAndFoldingTests: XCTestCase {
    private func layer(_ random: inout TestRandom, _ out: Int, _ inputs: Int) throws -> LinearLayer {
        try LinearLayer(weight: random.matrix(out, inputs, scale: 0.2), bias: random.floats(out, scale: 0.1))
    }

    func test_foldingRotationsAndScalesLeavesTheFloatNetworkUnchanged() throws {
        var random = TestRandom(seed: 1)
        let l1 = try layer(&random, 48, 32), l2 = try layer(&random, 16, 48)
        let x = random.matrix(10, 32)
        let reference = try l2.forward(try l1.forward(x))
        let rotation = try RandomHadamard(size: 48, seed: 5).matrix
        let scales = (0..<48).map { _ in 0.2 + 3 * random.generator.nextUniform() }
        let t1 = try l1.scalingOutput(by: scales).rotatingOutput(by: rotation)
        let t2 = try l2.scalingInput(by: scales).rotatingInput(by: rotation)
        let transformed = try t2.forward(try t1.forward(x))
        XCTAssertLessThan(relativeError(transformed, reference), 1e-5)
        // The intermediate activation really changed.
        XCTAssertGreaterThan(relativeError(try t1.forward(x), try l1.forward(x)), 0.5)
    }

    func test_foldingANormAffineLeavesOutputsUnchanged() throws {
        var random = TestRandom(seed: 2)
        let l = try layer(&random, 8, 16)
        let n = random.matrix(5, 16)
        let gamma = random.floats(16), beta = random.floats(16)
        var affine = n
        for r in 0..<5 { for c in 0..<16 { affine[r, c] = n[r, c] * gamma[c] + beta[c] } }
        let folded = try l.foldingNormAffine(gamma: gamma, beta: beta)
        XCTAssertLessThan(relativeError(try folded.forward(n), try l.forward(affine)), 1e-5)
        XCTAssertThrowsError(try l.scalingInput(by: [Float](repeating: 0, count: 16)))
        XCTAssertThrowsError(try l.rotatingInput(by: Matrix.identity(3)))
        // A channel the norm switches off (gamma 0) folds to a zero column; a non-finite gamma is refused.
        var switchedOff = gamma
        switchedOff[3] = 0
        let zeroed = try l.foldingNormAffine(gamma: switchedOff, beta: nil)
        XCTAssertEqual((0..<8).map { zeroed.weight[$0, 3] }, [Float](repeating: 0, count: 8))
        switchedOff[5] = .nan
        XCTAssertThrowsError(try l.foldingNormAffine(gamma: switchedOff, beta: nil))
        XCTAssertThrowsError(try l.foldingNormAffine(gamma: [1, 2], beta: nil))
    }

    /// Mamba-style gated output: `out = out_proj(y ⊙ SiLU(gate(x)))` where a few gate channels carry
    /// large outliers, so the out_proj input has outlier channels.
    private struct GatedBlock {
        var gate: LinearLayer
        var outProjection: LinearLayer
        var y: Matrix
        var x: Matrix

        func outProjectionInput(scales: [Float]?) throws -> Matrix {
            var z = try gate.forward(x)
            for r in 0..<z.rows { for c in 0..<z.cols {
                let silu = scales.map { Smoothing.scaledSiLU(z[r, c], scale: $0[c]) } ?? z[r, c] / (1 + exp(-z[r, c]))
                z[r, c] = y[r, c] * silu
            } }
            return z
        }
    }

    private func gatedBlock(seed: UInt64) throws -> GatedBlock {
        var random = TestRandom(seed: seed)
        var gate = try layer(&random, 64, 32)
        for c in [3, 17, 40] { for k in 0..<32 { gate.weight[c, k] *= 40 } }  // outlier gate channels
        return GatedBlock(gate: gate, outProjection: try layer(&random, 32, 64), y: random.matrix(256, 64), x: random.matrix(256, 32))
    }

    func test_scaledSiLUPassesTheSmoothingScaleThrough() {
        for z in stride(from: Float(-8), through: 8, by: 0.37) {
            for s in [Float(0.05), 1, 7.5] {
                XCTAssertEqual(Smoothing.scaledSiLU(z / s, scale: s), z / (1 + exp(-z)) / s, accuracy: 1e-5 * max(1, abs(z / s)))
            }
        }
    }

    func test_smoothFusedIsExactInFloatAndBeatsNoSmoothingOnGateOutliers() throws {
        let block = try gatedBlock(seed: 3)
        let u = try block.outProjectionInput(scales: nil)
        let reference = try block.outProjection.forward(u)
        let fused = try Smoothing.smoothFused(gate: block.gate, outProjection: block.outProjection,
                                              outProjectionInputMax: try Smoothing.channelAbsMax(u.values, channels: 64))
        var smoothed = block
        smoothed.gate = fused.gate
        smoothed.outProjection = fused.outProjection
        let uSmoothed = try smoothed.outProjectionInput(scales: fused.scales)
        XCTAssertLessThan(relativeError(try smoothed.outProjection.forward(uSmoothed), reference), 1e-5)
        // W8A8-style: per-tensor 8-bit activations, per-channel 8-bit weights.
        func outputError(_ b: GatedBlock, _ input: Matrix) throws -> Double {
            let w = b.outProjection.weight
            let wq = try Matrix(rows: w.rows, cols: w.cols, values: try UniformQuantizer(bits: 8, symmetric: true, granularity: .perChannel(axis: 0))
                .fakeQuantize(w.values, shape: [w.rows, w.cols]))
            let out = try LinearLayer(weight: wq, bias: b.outProjection.bias).forward(try fakeQuantizedPerTensor(input, bits: 8))
            return relativeError(out, reference)
        }
        let none = try outputError(block, u), smooth = try outputError(smoothed, uSmoothed)
        print("smooth-fused W8A8 out_proj relative error \(smooth) vs none \(none)")
        XCTAssertLessThan(smooth, none * 0.5)
    }
}
