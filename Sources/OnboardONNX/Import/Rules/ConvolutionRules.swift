import OnboardGraph

/// 2-D convolution and pooling over NCHW values.
enum ConvolutionRules {
    static let conv = ONNXOpRule(lower: { node, context in
        let x = try context.runtime(0, of: node)
        let weight = try context.requireConstant(1, of: node, what: "weight")
        let shape = context.builder.shape(x)
        guard shape.count == 4, weight.shape.count == 4 else { throw node.fail("only 2-D convolutions (NCHW input, 4-D weight) are supported") }
        let (strideH, strideW) = try pair(node, "strides", default: 1)
        let (dilationH, dilationW) = try pair(node, "dilations", default: 1)
        let (padH, padW) = try padding(node, input: (shape[2], shape[3]), kernel: (weight.shape[2], weight.shape[3]),
                                       stride: (strideH, strideW), dilation: (dilationH, dilationW))
        let params = Conv2dParams(strideH: strideH, strideW: strideW, padH: padH, padW: padW,
                                  dilationH: dilationH, dilationW: dilationW, groups: try node.int("group", default: 1))
        var operands = [x, try context.runtime(1, of: node)]
        if let bias = node.input(2) {
            guard context.constant(bias) != nil else { throw node.fail("its bias must be known when the model is imported") }
            operands.append(try context.runtime(2, of: node))
        }
        return [.runtime(try context.emit(.conv2d(params), operands, name: node.outputs[0]))]
    })

    static let maxPool = ONNXOpRule(lower: { node, context in
        guard node.outputs.count == 1 else { throw node.fail("the Indices output is not supported") }
        let x = try context.runtime(0, of: node)
        let shape = context.builder.shape(x)
        guard shape.count == 4, let kernel = try node.ints("kernel_shape"), kernel.count == 2 else {
            throw node.fail("only 2-D pooling (NCHW input, two kernel dimensions) is supported")
        }
        guard try pair(node, "dilations", default: 1) == (1, 1), try node.int("storage_order", default: 0) == 0 else {
            throw node.fail("dilated pooling and column-major storage are not supported")
        }
        let (strideH, strideW) = try pair(node, "strides", default: 1)
        let (padH, padW) = try padding(node, input: (shape[2], shape[3]), kernel: (kernel[0], kernel[1]),
                                       stride: (strideH, strideW), dilation: (1, 1))
        let params = Pool2dParams(kernelH: kernel[0], kernelW: kernel[1], strideH: strideH, strideW: strideW,
                                  padH: padH, padW: padW, ceilMode: try node.int("ceil_mode", default: 0) != 0)
        return [.runtime(try context.emit(.maxPool2d(params), [x], name: node.outputs[0]))]
    })

    /// The mean over H and W, kept as [N, C, 1, 1].
    static let globalAveragePool = ONNXOpRule(lower: { node, context in
        let x = try context.runtime(0, of: node)
        guard context.builder.shape(x).count == 4 else { throw node.fail("only NCHW inputs are supported") }
        let rows = try context.emit(.reduceMean(axis: 3, keepDims: true), [x], name: node.outputs[0] + "/width")
        return [.runtime(try context.emit(.reduceMean(axis: 2, keepDims: true), [rows], name: node.outputs[0]))]
    })

    private static func pair(_ node: ONNXNode, _ name: String, default value: Int) throws -> (Int, Int) {
        guard let values = try node.ints(name) else { return (value, value) }
        guard values.count == 2, values.allSatisfy({ $0 >= 1 }) else { throw node.fail("\(name) \(values) must be two positive integers") }
        return (values[0], values[1])
    }

    /// Symmetric padding from `pads` or `auto_pad`; uneven padding has no graph op.
    private static func padding(_ node: ONNXNode, input: (Int, Int), kernel: (Int, Int), stride: (Int, Int),
                                dilation: (Int, Int)) throws -> (Int, Int) {
        var pads = try node.ints("pads") ?? [0, 0, 0, 0]
        switch node.string("auto_pad", default: "NOTSET") {
        case "NOTSET": break
        case "VALID": pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            let upper = node.string("auto_pad", default: "") == "SAME_UPPER"
            func same(_ size: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let total = max(0, ((size + s - 1) / s - 1) * s + (k - 1) * d + 1 - size)
                return upper ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let h = same(input.0, kernel.0, stride.0, dilation.0), w = same(input.1, kernel.1, stride.1, dilation.1)
            pads = [h.0, w.0, h.1, w.1]
        case let other: throw node.fail("auto_pad '\(other)' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")
        }
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else { throw node.fail("pads \(pads) must be four non-negative integers") }
        guard pads[0] == pads[2], pads[1] == pads[3] else {
            throw node.fail("uneven padding \(pads) (begin and end differ) is not supported")
        }
        return (pads[0], pads[1])
    }
}
