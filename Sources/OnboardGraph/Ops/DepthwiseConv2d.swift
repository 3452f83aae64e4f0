import OnboardCore

/// Depthwise convolution (one input channel per group, one output channel per group), computed
/// directly: per channel plane, each kernel tap adds a weighted input row to an output row. The
/// im2col + GEMM path would run one tiny GEMM per channel (MobileNet, EfficientNet).
extension Conv2dOp {
    static func isDepthwise(input x: [Int], weight w: [Int], _ p: Conv2dParams) -> Bool {
        p.groups > 1 && p.groups == x[1] && w[0] == p.groups && w[1] == 1
    }

    static func depthwise(_ inputs: [Operand], _ output: Operand, params p: Conv2dParams, threads: Int) {
        let x = inputs[0].shape, w = inputs[1].shape
        let (planes, height, width) = (x[0] * x[1], x[2], x[3])
        let (channels, kh, kw) = (x[1], w[2], w[3])
        let (oh, ow) = (output.shape[2], output.shape[3])
        let source = inputs[0].floats, weights = inputs[1].floats, target = output.floats
        let bias = inputs.count == 3 ? inputs[2].floats : nil
        Parallel.forRanges(count: planes, threads: threads, grain: 1) { range in
            for plane in range {
                let c = plane % channels
                let src = source + plane * height * width, dst = target + plane * oh * ow, taps = weights + c * kh * kw
                dst.update(repeating: bias?[c] ?? 0, count: oh * ow)
                for oy in 0..<oh {
                    let row = dst + oy * ow
                    for ky in 0..<kh {
                        let iy = oy * p.strideH - p.padH + ky * p.dilationH
                        guard iy >= 0, iy < height else { continue }
                        let line = src + iy * width
                        for kx in 0..<kw {
                            let weight = taps[ky * kw + kx]
                            // Input column ox·stride + offset; the output columns whose column is inside the row.
                            let offset = kx * p.dilationW - p.padW
                            let first = offset >= 0 ? 0 : (p.strideW - 1 - offset) / p.strideW
                            let last = width - 1 - offset < 0 ? 0 : min(ow, (width - 1 - offset) / p.strideW + 1)
                            guard first < last else { continue }
                            if p.strideW == 1 {
                                let shifted = line + offset
                                for ox in first..<last { row[ox] += weight * shifted[ox] }
                            } else {
                                for ox in first..<last { row[ox] += weight * line[ox * p.strideW + offset] }
                            }
                        }
                    }
                }
            }
        }
    }
}
