import OnboardCore

/// NCHW convolution as im2col + GEMM per image and group (1x1 stride-1 convolutions skip im2col;
/// depthwise ones run directly, `DepthwiseConv2d.swift`).
struct Conv2dOp: OpDefinition {
    let params: Conv2dParams

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(2...3)
        try check.float([0, 2])
        try check.weight(1)
        return (try Self.outputShape(check.shapes, params: params, fail: check.fail), .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int {
        Self.scratchBytes(inputShapes: inputs, output: output, params: params)
    }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.run(inputs, output, params: params, context)
    }

    var quantization: QuantizationTraits { QuantizationTraits(form: .integerKernel(.conv2d(params)), islandOnCodes: nil) }

    static func outputShape(_ s: [[Int]], params p: Conv2dParams, fail: (String) -> OnboardError) throws -> [Int] {
        let x = s[0], w = s[1]
        guard x.count == 4, w.count == 4 else { throw fail("input must be [B,C,H,W] and weight [O,C/g,kh,kw], got \(x) and \(w)") }
        guard p.groups >= 1, x[1] % p.groups == 0, w[0] % p.groups == 0, w[1] * p.groups == x[1] else {
            throw fail("weight \(w) does not fit \(x[1]) input channels in \(p.groups) groups")
        }
        guard p.strideH >= 1, p.strideW >= 1, p.dilationH >= 1, p.dilationW >= 1, p.padH >= 0, p.padW >= 0 else {
            throw fail("stride and dilation must be >= 1, padding >= 0")
        }
        if s.count == 3, s[2] != [w[0]] { throw fail("bias must be [\(w[0])], got \(s[2])") }
        let (oh, ow) = p.outputSize(height: x[2], width: x[3], kernelHeight: w[2], kernelWidth: w[3])
        guard oh >= 1, ow >= 1 else { throw fail("kernel \(w[2])x\(w[3]) larger than padded input \(x[2])x\(x[3])") }
        return [x[0], w[0], oh, ow]
    }

    static func isPointwise(_ w: [Int], _ p: Conv2dParams) -> Bool {
        w[2] == 1 && w[3] == 1 && p.strideH == 1 && p.strideW == 1 && p.padH == 0 && p.padW == 0
    }

    static func scratchBytes(inputShapes: [[Int]], output: [Int], params p: Conv2dParams) -> Int {
        let w = inputShapes[1]
        if isPointwise(w, p) || isDepthwise(input: inputShapes[0], weight: w, p) { return 0 }
        return w[1] * w[2] * w[3] * output[2] * output[3] * 4
    }

    static func run(_ inputs: [Operand], _ output: Operand, params p: Conv2dParams, _ context: KernelContext) {
        let x = inputs[0].shape, w = inputs[1].shape
        if isDepthwise(input: x, weight: w, p) { return depthwise(inputs, output, params: p, threads: context.threads) }
        let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
        let (outChannels, oh, ow) = (w[0], output.shape[2], output.shape[3])
        let groupIn = channels / p.groups, groupOut = outChannels / p.groups
        let patch = groupIn * w[2] * w[3]
        let pixels = oh * ow
        let pointwise = isPointwise(w, p)
        let col = context.scratch.assumingMemoryBound(to: Float.self)
        for b in 0..<batch {
            for g in 0..<p.groups {
                let image = inputs[0].floats + (b * channels + g * groupIn) * height * width
                if !pointwise {
                    im2col(image, channels: groupIn, height: height, width: width, kernel: (w[2], w[3]),
                           params: p, outSize: (oh, ow), into: col, threads: context.threads)
                }
                let y = output.floats + (b * outChannels + g * groupOut) * pixels
                sgemm(m: groupOut, n: pixels, k: patch, a: inputs[1].floats + g * groupOut * patch, lda: patch,
                      b: pointwise ? image : col, ldb: pixels, transposeB: false, c: y, ldc: pixels,
                      threads: context.threads)
                if inputs.count == 3 { addBias(inputs[2].floats + g * groupOut, to: y, channels: groupOut, pixels: pixels) }
            }
        }
    }

    /// y[o, :] += bias[o] over `channels` planes of `pixels`.
    static func addBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, channels: Int, pixels: Int) {
        for o in 0..<channels {
            let plane = y + o * pixels, value = bias[o]
            for i in 0..<pixels { plane[i] += value }
        }
    }

    /// Rows (c, ky, kx), columns (oy, ox); zeros where the window leaves the image.
    static func im2col(
        _ image: UnsafePointer<Float>, channels: Int, height: Int, width: Int, kernel: (Int, Int),
        params p: Conv2dParams, outSize: (Int, Int), into col: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let (kh, kw) = kernel, (oh, ow) = outSize
        Parallel.forRanges(count: channels * kh * kw, threads: threads, grain: 8) { rows in
            for row in rows {
                let c = row / (kh * kw), ky = (row / kw) % kh, kx = row % kw
                let dst = col + row * oh * ow
                let plane = image + c * height * width
                for oy in 0..<oh {
                    let iy = oy * p.strideH - p.padH + ky * p.dilationH
                    let line = dst + oy * ow
                    guard iy >= 0, iy < height else {
                        line.update(repeating: 0, count: ow)
                        continue
                    }
                    let src = plane + iy * width
                    for ox in 0..<ow {
                        let ix = ox * p.strideW - p.padW + kx * p.dilationW
                        line[ox] = (ix >= 0 && ix < width) ? src[ix] : 0
                    }
                }
            }
        }
    }
}

extension Conv2dParams {
    /// Output extent along one axis, as the graph's shape rule computes it:
    /// `(size + 2·padding − dilation·(kernel − 1) − 1) / stride + 1` in Swift's truncating integer
    /// division. torch's `Conv2d` agrees wherever the kernel fits the padded input.
    public static func outputExtent(_ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int = 1) -> Int {
        (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }

    /// Output height and width for an input of `height` x `width` and a kernel of
    /// `kernelHeight` x `kernelWidth` under these parameters.
    public func outputSize(height: Int, width: Int, kernelHeight: Int, kernelWidth: Int) -> (height: Int, width: Int) {
        (Self.outputExtent(height, kernel: kernelHeight, stride: strideH, padding: padH, dilation: dilationH),
         Self.outputExtent(width, kernel: kernelWidth, stride: strideW, padding: padW, dilation: dilationW))
    }
}
