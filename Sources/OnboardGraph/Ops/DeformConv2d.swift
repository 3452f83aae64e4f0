import OnboardCore

/// Modulated deformable convolution (DCNv2) as mmcv's `modulated_deform_conv2d` computes it:
/// a deformable im2col (each tap sampled bilinearly at its offset position and multiplied by
/// its mask; zero outside the image) followed by one GEMM per image and group.
struct DeformConv2dOp: OpDefinition {
    let params: Conv2dParams
    let deformGroups: Int

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(4...5)
        try check.float([0, 1, 2, 4])
        try check.weight(3)
        return (try Self.outputShape(check.shapes, params: params, deformGroups: deformGroups, fail: check.fail), .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int {
        Self.scratchBytes(inputShapes: inputs, output: output, params: params)
    }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.run(inputs, output, params: params, deformGroups: deformGroups, context)
    }

    var quantization: QuantizationTraits { .floatIsland }

    static func outputShape(_ s: [[Int]], params p: Conv2dParams, deformGroups: Int, fail: (String) -> OnboardError) throws -> [Int] {
        let out = try Conv2dOp.outputShape([s[0], s[3]] + (s.count == 5 ? [s[4]] : []), params: p, fail: fail)
        let x = s[0], w = s[3]
        guard deformGroups >= 1, x[1] % deformGroups == 0 else {
            throw fail("\(deformGroups) deformable groups do not divide \(x[1]) input channels")
        }
        let taps = w[2] * w[3]
        let spatial = [out[0], out[2], out[3]]
        guard s[1].count == 4, s[1][1] == 2 * deformGroups * taps, [s[1][0], s[1][2], s[1][3]] == spatial else {
            throw fail("offset must be [\(out[0]), \(2 * deformGroups * taps), \(out[2]), \(out[3])], got \(s[1])")
        }
        guard s[2].count == 4, s[2][1] == deformGroups * taps, [s[2][0], s[2][2], s[2][3]] == spatial else {
            throw fail("mask must be [\(out[0]), \(deformGroups * taps), \(out[2]), \(out[3])], got \(s[2])")
        }
        return out
    }

    static func scratchBytes(inputShapes: [[Int]], output: [Int], params p: Conv2dParams) -> Int {
        let x = inputShapes[0], w = inputShapes[3]
        return x[1] * w[2] * w[3] * output[2] * output[3] * 4
    }

    static func run(_ inputs: [Operand], _ output: Operand, params p: Conv2dParams, deformGroups: Int, _ context: KernelContext) {
        let x = inputs[0].shape, w = inputs[3].shape
        let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
        let (outChannels, kh, kw, oh, ow) = (w[0], w[2], w[3], output.shape[2], output.shape[3])
        let taps = kh * kw, pixels = oh * ow
        let groupIn = channels / p.groups, groupOut = outChannels / p.groups
        let patch = groupIn * taps
        let channelsPerDeformGroup = channels / deformGroups
        let col = context.scratch.assumingMemoryBound(to: Float.self)
        for b in 0..<batch {
            let image = inputs[0].floats + b * channels * height * width
            let offsets = inputs[1].floats + b * 2 * deformGroups * taps * pixels
            let masks = inputs[2].floats + b * deformGroups * taps * pixels
            Parallel.forRanges(count: channels * taps, threads: context.threads, grain: 4) { rows in
                for row in rows {
                    let c = row / taps, tap = row % taps, ky = tap / kw, kx = tap % kw
                    let group = c / channelsPerDeformGroup
                    let plane = image + c * height * width
                    let dy = offsets + (group * 2 * taps + 2 * tap) * pixels, dx = dy + pixels
                    let mask = masks + (group * taps + tap) * pixels
                    let dst = col + row * pixels
                    for oy in 0..<oh {
                        let baseY = oy * p.strideH - p.padH + ky * p.dilationH
                        for ox in 0..<ow {
                            let i = oy * ow + ox
                            let baseX = ox * p.strideW - p.padW + kx * p.dilationW
                            let h = Float(baseY) + dy[i], w = Float(baseX) + dx[i]
                            var value: Float = 0
                            if h > -1, w > -1, h < Float(height), w < Float(width) {
                                value = bilinear(plane, height: height, width: width, h: h, w: w)
                            }
                            dst[i] = value * mask[i]
                        }
                    }
                }
            }
            for g in 0..<p.groups {
                let y = output.floats + (b * outChannels + g * groupOut) * pixels
                sgemm(m: groupOut, n: pixels, k: patch, a: inputs[3].floats + g * groupOut * patch, lda: patch,
                      b: col + g * patch * pixels, ldb: pixels, transposeB: false, c: y, ldc: pixels,
                      threads: context.threads)
                if inputs.count == 5 { Conv2dOp.addBias(inputs[4].floats + g * groupOut, to: y, channels: groupOut, pixels: pixels) }
            }
        }
    }

    /// mmcv `dmcn_im2col_bilinear`: corners outside the image count as zero.
    @inline(__always)
    static func bilinear(_ plane: UnsafePointer<Float>, height: Int, width: Int, h: Float, w: Float) -> Float {
        let hLow = Int(h.rounded(.down)), wLow = Int(w.rounded(.down))
        let hHigh = hLow + 1, wHigh = wLow + 1
        let lh = h - Float(hLow), lw = w - Float(wLow)
        let hh = 1 - lh, hw = 1 - lw
        let v1: Float = hLow >= 0 && wLow >= 0 ? plane[hLow * width + wLow] : 0
        let v2: Float = hLow >= 0 && wHigh <= width - 1 ? plane[hLow * width + wHigh] : 0
        let v3: Float = hHigh <= height - 1 && wLow >= 0 ? plane[hHigh * width + wLow] : 0
        let v4: Float = hHigh <= height - 1 && wHigh <= width - 1 ? plane[hHigh * width + wHigh] : 0
        let w1 = hh * hw, w2 = hh * lw, w3 = lh * hw, w4 = lh * lw
        return w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4
    }
}
