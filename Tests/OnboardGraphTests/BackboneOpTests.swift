import Foundation
import CKernels
import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// The ops the image backbones added (maxPool2d, upsampleNearest, hardSigmoid, deformConv2d)
/// against loops written from torch's / mmcv's definitions, and on the INT8 executor (max pool
/// and upsampling move codes exactly).
final class BackboneOpTests: XCTestCase {
    var random = TestRandom(seed: 7)

    func runOp(_ op: Op, _ x: Tensor, _ rest: [Tensor] = [], threads: Int = 2) throws -> Tensor {
        let g = GraphBuilder()
        let input = try g.constant("x", x)
        let others = try rest.enumerated().map { try g.constant("in\($0.offset)", $0.element) }
        g.markOutput(try g.node(op, [input] + others, name: "out"))
        return try FP32Executor(graph: try g.build(), threads: threads).run([:])["out"]!
    }

    /// torch.nn.functional.max_pool2d written out: output size from `pooling_output_shape`.
    func referenceMaxPool(_ x: Tensor, kernel: Int, stride: Int, pad: Int, ceil: Bool) -> (shape: [Int], values: [Float]) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func extent(_ size: Int) -> Int {
            let numerator = size + 2 * pad - (kernel - 1) - 1 + (ceil ? stride - 1 : 0)
            var out = Int((Double(numerator) / Double(stride)).rounded(.down)) + 1
            if ceil && (out - 1) * stride >= size + pad { out -= 1 }
            return out
        }
        let (oh, ow) = (extent(h), extent(w))
        let values = x.floats()
        var out: [Float] = []
        for plane in 0..<(n * c) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = -Float.infinity
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
                            if iy >= 0, iy < h, ix >= 0, ix < w { best = max(best, values[(plane * h + iy) * w + ix]) }
                        }
                    }
                    out.append(best)
                }
            }
        }
        return ([n, c, oh, ow], out)
    }

    func test_maxPoolMatchesTorchIncludingCeilMode() throws {
        // (H, W, kernel, stride, padding, ceil): ResNet's stem pool, VoVNet's ceil-mode pools on
        // even and odd sizes (a last partial window appears), FPN's 1x1 stride-2 pool.
        let cases: [(Int, Int, Int, Int, Int, Bool)] = [
            (9, 8, 3, 2, 1, false), (18, 25, 3, 2, 0, true), (4, 5, 3, 2, 0, true), (7, 7, 3, 2, 0, false),
            (5, 6, 1, 2, 0, false), (6, 6, 2, 2, 0, true), (3, 3, 3, 2, 1, true),
        ]
        for (h, w, k, s, p, ceil) in cases {
            let x = random.gaussian([2, 3, h, w])
            let (shape, expected) = referenceMaxPool(x, kernel: k, stride: s, pad: p, ceil: ceil)
            for threads in [1, 2] {
                let y = try runOp(.maxPool2d(Pool2dParams(kernel: k, stride: s, padding: p, ceilMode: ceil)), x, threads: threads)
                XCTAssertEqual(y.shape, shape, "\(h)x\(w) k\(k) s\(s) p\(p) ceil \(ceil)")
                XCTAssertEqual(y.floats(), expected, "\(h)x\(w) k\(k) s\(s) p\(p) ceil \(ceil)")
            }
        }
        // torch: 18 rows, kernel 3, stride 2 -> 9 with ceil_mode, 8 without.
        XCTAssertEqual(Pool2dParams.outputExtent(18, kernel: 3, stride: 2, padding: 0, ceilMode: true), 9)
        XCTAssertEqual(Pool2dParams.outputExtent(18, kernel: 3, stride: 2, padding: 0, ceilMode: false), 8)
        XCTAssertEqual(Pool2dParams.outputExtent(4, kernel: 3, stride: 2, padding: 0, ceilMode: true), 2)
    }

    func test_maxPoolPropagatesNaNAndRejectsBadParameters() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], values: [1, .nan, 3, 2])
        XCTAssertTrue(try runOp(.maxPool2d(Pool2dParams(kernel: 2)), x).floats()[0].isNaN)
        let g = GraphBuilder()
        let input = try g.input("x", shape: [1, 1, 4, 4])
        XCTAssertThrowsError(try g.node(.maxPool2d(Pool2dParams(kernel: 3, stride: 1, padding: 2)), [input], name: "wide_pad"))
        XCTAssertThrowsError(try g.node(.maxPool2d(Pool2dParams(kernel: 5, stride: 1)), [input], name: "big"))
        let flat = try g.input("flat", shape: [4, 4])
        XCTAssertThrowsError(try g.node(.maxPool2d(Pool2dParams(kernel: 2)), [flat], name: "rank"))
    }

    func test_upsampleNearestMatchesTorchIndexRule() throws {
        // Output index -> input index, from torch (F.interpolate(mode="nearest", size=...)):
        // 3 -> 7: floor(i * 3/7); 2 -> 4: i/2; 5 -> 3 (downsampling): floor(i * 5/3).
        XCTAssertEqual((0..<7).map { UpsampleNearestOp.sourceIndex($0, input: 3, output: 7) }, [0, 0, 0, 1, 1, 2, 2])
        XCTAssertEqual((0..<4).map { UpsampleNearestOp.sourceIndex($0, input: 2, output: 4) }, [0, 0, 1, 1])
        XCTAssertEqual((0..<3).map { UpsampleNearestOp.sourceIndex($0, input: 5, output: 3) }, [0, 1, 3])
        // Printed by torch 2.x (F.interpolate of arange(in) to size out), for sizes PETR's FPN can meet.
        let torchIndices: [(Int, Int, [Int])] = [
            (13, 25, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12]),
            (10, 25, [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 8, 9, 9]),
            (7, 50, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3,
                     4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6]),
        ]
        for (input, output, expected) in torchIndices {
            XCTAssertEqual((0..<output).map { UpsampleNearestOp.sourceIndex($0, input: input, output: output) }, expected, "\(input) -> \(output)")
        }
        for (h, w, oh, ow) in [(2, 3, 4, 6), (3, 5, 7, 9), (4, 4, 4, 4), (5, 5, 3, 2)] {
            let x = random.gaussian([2, 3, h, w])
            let values = x.floats()
            var expected: [Float] = []
            for plane in 0..<6 {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let iy = min(Int((Float(oy) * (Float(h) / Float(oh))).rounded(.down)), h - 1)
                        let ix = min(Int((Float(ox) * (Float(w) / Float(ow))).rounded(.down)), w - 1)
                        expected.append(values[(plane * h + iy) * w + ix])
                    }
                }
            }
            for threads in [1, 2] {
                let y = try runOp(.upsampleNearest(height: oh, width: ow), x, threads: threads)
                XCTAssertEqual(y.shape, [2, 3, oh, ow])
                XCTAssertEqual(y.floats(), expected, "\(h)x\(w) -> \(oh)x\(ow)")
            }
        }
    }

    func test_hardSigmoidIsRelu6OfXPlus3Over6() throws {
        let x = try Tensor(shape: [9], values: [-10, -3, -2.5, -1, 0, 1, 2.9, 3, 100])
        let y = try runOp(.hardSigmoid, x).floats()
        XCTAssertEqual(y, x.floats().map { min(max($0 + 3, 0), 6) / 6 })
        XCTAssertEqual(y[4], 0.5)
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[8], 1)
    }

    /// conv -> maxpool -> upsample -> hardSigmoid on the INT8 executor: pool and upsample move
    /// codes (results equal the FP32 ops on the dequantized conv output, bit for bit), the hard
    /// sigmoid is a table island, and calibration gives the moved tensors their source's parameters.
    func test_int8MovesCodesThroughPoolAndUpsample() throws {
        let g = GraphBuilder()
        let x = try g.input("x", shape: [1, 4, 9, 11])
        let conv = try g.node(.conv2d(Conv2dParams(stride: 1, padding: 1)), [x, try g.constant("w", random.gaussian([6, 4, 3, 3], scale: 0.3)),
                                                                            try g.constant("b", random.gaussian([6], scale: 0.1))], name: "conv")
        let pool = try g.node(.maxPool2d(Pool2dParams(kernel: 3, stride: 2, padding: 0, ceilMode: true)), [conv], name: "pool")
        let up = try g.node(.upsampleNearest(height: 9, width: 11), [pool], name: "up")
        let gate = try g.node(.hardSigmoid, [up], name: "gate")
        [conv, pool, up, gate].forEach(g.markOutput)
        let graph = try g.build()
        let samples = (0..<4).map { _ in ["x": random.gaussian([1, 4, 9, 11])] }
        let plan = try Calibrator.calibrate(graph: graph, recipe: QuantizationRecipe(), count: samples.count, threads: 2) { samples[$0] }
        XCTAssertEqual(plan.activations["pool"], plan.activations["conv"])
        XCTAssertEqual(plan.activations["up"], plan.activations["conv"])
        let int8 = try Int8Executor(graph: graph, plan: plan, threads: 2)
        XCTAssertEqual(int8.executions, [.integer, .movement, .movement, .floatIsland])
        let outputs = try int8.run(samples[0])
        // Pool and upsample of the dequantized conv output, in float: identical values.
        let pooled = try runOp(.maxPool2d(Pool2dParams(kernel: 3, stride: 2, padding: 0, ceilMode: true)), outputs["conv"]!)
        XCTAssertEqual(outputs["pool"]!.floats(), pooled.floats())
        XCTAssertEqual(outputs["up"]!.floats(), try runOp(.upsampleNearest(height: 9, width: 11), pooled).floats())
        let reference = try FP32Executor(graph: graph, threads: 2).run(samples[0])
        let db = QuantMetrics.sqnr(reference["gate"]!.floats(), outputs["gate"]!.floats())
        XCTAssertGreaterThan(db, 25, "hard sigmoid SQNR \(db) dB")
    }

    /// mmcv `modulated_deform_conv2d` written out: tap (ky, kx) of output (oy, ox) samples the
    /// input bilinearly at (oy*s - p + ky*d + dy, ox*s - p + kx*d + dx), zero outside
    /// (-1, H) x (-1, W) and for corners outside the image, times its mask.
    func referenceDeformConv(
        _ x: Tensor, _ offset: Tensor, _ mask: Tensor, _ weight: Tensor, _ bias: Tensor?, _ p: Conv2dParams, deformGroups: Int
    ) -> [Float] {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let (oh, ow) = (offset.shape[2], offset.shape[3])
        let xs = x.floats(), offs = offset.floats(), masks = mask.floats(), ws = weight.floats()
        let groupIn = c / p.groups, groupOut = o / p.groups, perDeform = c / deformGroups
        func pixel(_ b: Int, _ ch: Int, _ y: Int, _ x: Int) -> Float {
            (y >= 0 && y < h && x >= 0 && x < w) ? xs[((b * c + ch) * h + y) * w + x] : 0
        }
        var out = [Float](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n {
            for oc in 0..<o {
                let g = oc / groupOut
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum: Float = bias.map { $0.element(at: oc) } ?? 0
                        for ci in 0..<groupIn {
                            let ch = g * groupIn + ci, dgroup = ch / perDeform
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let tap = ky * kw + kx
                                    let at = { (channel: Int) in ((b * offset.shape[1] + channel) * oh + oy) * ow + ox }
                                    let dy = offs[at(dgroup * 2 * kh * kw + 2 * tap)], dx = offs[at(dgroup * 2 * kh * kw + 2 * tap + 1)]
                                    let m = masks[((b * mask.shape[1] + dgroup * kh * kw + tap) * oh + oy) * ow + ox]
                                    let sy = Float(oy * p.strideH - p.padH + ky * p.dilationH) + dy
                                    let sx = Float(ox * p.strideW - p.padW + kx * p.dilationW) + dx
                                    var value: Float = 0
                                    if sy > -1, sx > -1, sy < Float(h), sx < Float(w) {
                                        let y0 = Int(sy.rounded(.down)), x0 = Int(sx.rounded(.down))
                                        let fy = sy - Float(y0), fx = sx - Float(x0)
                                        value = (1 - fy) * (1 - fx) * pixel(b, ch, y0, x0) + (1 - fy) * fx * pixel(b, ch, y0, x0 + 1)
                                            + fy * (1 - fx) * pixel(b, ch, y0 + 1, x0) + fy * fx * pixel(b, ch, y0 + 1, x0 + 1)
                                    }
                                    sum += ws[((oc * groupIn + ci) * kh + ky) * kw + kx] * value * m
                                }
                            }
                        }
                        out[((b * o + oc) * oh + oy) * ow + ox] = sum
                    }
                }
            }
        }
        return out
    }

    func test_deformConv2dMatchesMmcvDefinition() throws {
        // (C, O, H, W, kernel, params, deform groups)
        let cases: [(Int, Int, Int, Int, Int, Conv2dParams, Int)] = [
            (4, 6, 7, 9, 3, Conv2dParams(stride: 1, padding: 1), 1),
            (4, 4, 8, 7, 3, Conv2dParams(stride: 2, padding: 1), 2),
            (6, 4, 9, 9, 3, Conv2dParams(stride: 1, padding: 2, dilation: 2, groups: 2), 3),
        ]
        for (index, (c, o, h, w, k, p, dg)) in cases.enumerated() {
            let x = random.gaussian([2, c, h, w])
            let (oh, ow) = p.outputSize(height: h, width: w, kernelHeight: k, kernelWidth: k)
            let offset = random.gaussian([2, 2 * dg * k * k, oh, ow], scale: 1.5)  // some taps leave the image
            let mask = try Tensor(shape: [2, dg * k * k, oh, ow], values: random.floats(2 * dg * k * k * oh * ow).map { 1 / (1 + exp(-$0)) })
            let weight = random.gaussian([o, c / p.groups, k, k]), bias = random.gaussian([o])
            let expected = referenceDeformConv(x, offset, mask, weight, bias, p, deformGroups: dg)
            for threads in [1, 2] {
                let y = try runOp(.deformConv2d(p, deformGroups: dg), x, [offset, mask, weight, bias], threads: threads)
                XCTAssertEqual(y.shape, [2, o, oh, ow])
                let (error, magnitude) = maxErrors(y.floats(), expected)
                XCTAssertLessThanOrEqual(error, 1e-5 * max(magnitude, 1), "case \(index) threads \(threads)")
            }
        }
        // Zero offsets and unit masks: a plain convolution.
        let x = random.gaussian([1, 3, 6, 5]), weight = random.gaussian([4, 3, 3, 3])
        let p = Conv2dParams(stride: 1, padding: 1)
        let plain = try runOp(.conv2d(p), x, [weight])
        let deformed = try runOp(.deformConv2d(p, deformGroups: 1), x,
                                 [Tensor(zeros: [1, 18, 6, 5]), try Tensor(shape: [1, 9, 6, 5], values: Array(repeating: 1, count: 270)), weight])
        let (error, magnitude) = maxErrors(deformed.floats(), plain.floats())
        XCTAssertLessThanOrEqual(error, 1e-5 * magnitude)
        // Offset and mask shapes are checked.
        let g = GraphBuilder()
        let input = try g.input("x", shape: [1, 3, 6, 5])
        let w = try g.constant("w", weight)
        let badOffset = try g.input("offset", shape: [1, 9, 6, 5]), goodMask = try g.input("mask", shape: [1, 9, 6, 5])
        XCTAssertThrowsError(try g.node(.deformConv2d(p, deformGroups: 1), [input, badOffset, goodMask, w], name: "bad")) { error in
            XCTAssertTrue("\(error)".contains("offset must be [1, 18, 6, 5]"), "\(error)")
        }
    }
}
