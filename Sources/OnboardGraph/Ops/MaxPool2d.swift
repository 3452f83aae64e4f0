import OnboardCore

/// NCHW max pooling as `torch.nn.MaxPool2d` (dilation 1): windows clipped to the image (padding
/// counts as -inf), NaN propagates, `ceilMode` adds a last partial window that starts inside
/// the image or its left padding. Works on f32 values and on u8 codes (the INT8 executor moves
/// codes through it: with a positive scale the largest code is the largest value).
struct MaxPool2dOp: OpDefinition {
    let params: Pool2dParams

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...1)
        try check.float(0..<1)
        return (try Self.outputShape(check.shapes[0], params: params, fail: check.fail), .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.run(inputs[0], output, params: params, context)
    }

    /// The largest code of a window is its largest value (scales are positive).
    var quantization: QuantizationTraits { .movesCodesOnly }

    static func outputShape(_ x: [Int], params p: Pool2dParams, fail: (String) -> OnboardError) throws -> [Int] {
        guard x.count == 4 else { throw fail("input must be [B,C,H,W], got \(x)") }
        guard p.kernelH >= 1, p.kernelW >= 1, p.strideH >= 1, p.strideW >= 1 else { throw fail("kernel and stride must be >= 1") }
        guard p.padH >= 0, p.padW >= 0, p.padH <= p.kernelH / 2, p.padW <= p.kernelW / 2 else {
            throw fail("padding (\(p.padH), \(p.padW)) must be between 0 and half the kernel (\(p.kernelH), \(p.kernelW))")
        }
        let (oh, ow) = p.outputSize(height: x[2], width: x[3])
        guard oh >= 1, ow >= 1 else { throw fail("kernel \(p.kernelH)x\(p.kernelW) larger than padded input \(x[2])x\(x[3])") }
        return [x[0], x[1], oh, ow]
    }

    static func run(_ input: Operand, _ output: Operand, params p: Pool2dParams, _ context: KernelContext) {
        switch input.dtype {
        case .f32:
            pool(input.floats, output.floats, input.shape, output.shape, p, context.threads, greater: { $0 > $1 || $0.isNaN })
        case .u8:
            pool(input.pointer.assumingMemoryBound(to: UInt8.self), output.pointer.assumingMemoryBound(to: UInt8.self),
                 input.shape, output.shape, p, context.threads, greater: { $0 > $1 })
        default:
            preconditionFailure("maxpool2d on \(input.dtype)")
        }
    }

    private static func pool<T>(
        _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ inShape: [Int], _ outShape: [Int], _ p: Pool2dParams,
        _ threads: Int, greater: @escaping (T, T) -> Bool
    ) {
        let (h, w, oh, ow) = (inShape[2], inShape[3], outShape[2], outShape[3])
        let planes = inShape[0] * inShape[1]
        Parallel.forRanges(count: planes, threads: threads, grain: max(1, 4096 / max(oh * ow, 1))) { range in
            for plane in range {
                let src = x + plane * h * w, dst = y + plane * oh * ow
                for oy in 0..<oh {
                    let y0 = oy * p.strideH - p.padH
                    let ys = max(y0, 0)..<min(y0 + p.kernelH, h)
                    for ox in 0..<ow {
                        let x0 = ox * p.strideW - p.padW
                        let xs = max(x0, 0)..<min(x0 + p.kernelW, w)
                        var best = src[ys.lowerBound * w + xs.lowerBound]
                        for iy in ys {
                            let row = src + iy * w
                            for ix in xs where greater(row[ix], best) { best = row[ix] }
                        }
                        dst[oy * ow + ox] = best
                    }
                }
            }
        }
    }
}

extension Pool2dParams {
    /// Output extent along one axis, as torch's `pooling_output_shape` (dilation 1) and the graph's
    /// shape rule compute it; 0 when the kernel does not fit the padded input. With `ceilMode` a last
    /// partial window counts when it starts inside the input or its left padding.
    public static func outputExtent(_ size: Int, kernel: Int, stride: Int, padding: Int, ceilMode: Bool) -> Int {
        let span = size + 2 * padding - (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0)
        guard span >= 0 else { return 0 }
        var out = span / stride + 1
        if ceilMode, (out - 1) * stride >= size + padding { out -= 1 }
        return out
    }

    /// Output height and width for an input of `height` x `width` under these parameters.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        (Self.outputExtent(height, kernel: kernelH, stride: strideH, padding: padH, ceilMode: ceilMode),
         Self.outputExtent(width, kernel: kernelW, stride: strideW, padding: padW, ceilMode: ceilMode))
    }
}
