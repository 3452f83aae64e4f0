import OnboardCore

/// `Op` as the JSON object a graph bundle stores (docs/bundle-format.md, "graph"): `{"op": kind}`
/// plus the case's attributes under snake_case keys. Decoding checks each attribute's range where
/// a wrong one would break a kernel rather than only a shape rule.
extension Op: Codable {
    private enum Key: String, CodingKey {
        case op, transposeB = "transpose_b", alpha, epsilon, approximate, factor, shape, permutation, axis
        case start, end, step, keepDims = "keep_dims", stride, padding, dilation, groups, kernel, ceilMode = "ceil_mode"
        case height, width, deformGroups = "deform_groups", reverse, min, max
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(kind, forKey: .op)
        switch self {
        case .linear, .softmax, .add, .sub, .mul, .div, .relu, .sigmoid, .silu, .erf, .gather, .hardSigmoid, .hadamard: break
        case let .matmul(transposeB, alpha):
            try c.encode(transposeB, forKey: .transposeB)
            try c.encode(alpha, forKey: .alpha)
        case let .conv2d(params): try Self.encode(params, into: &c)
        case let .deformConv2d(params, deformGroups):
            try Self.encode(params, into: &c)
            try c.encode(deformGroups, forKey: .deformGroups)
        case let .layerNorm(epsilon), let .rmsNorm(epsilon): try c.encode(epsilon, forKey: .epsilon)
        case let .gelu(approximate): try c.encode(approximate, forKey: .approximate)
        case let .clip(low, high):
            try c.encode(low, forKey: .min)
            try c.encode(high, forKey: .max)
        case let .scale(factor): try c.encode(factor, forKey: .factor)
        case let .reshape(shape): try c.encode(shape, forKey: .shape)
        case let .permute(permutation): try c.encode(permutation, forKey: .permutation)
        case let .concat(axis): try c.encode(axis, forKey: .axis)
        case let .slice(axis, start, end, step):
            try c.encode(axis, forKey: .axis)
            try c.encode(start, forKey: .start)
            try c.encode(end, forKey: .end)
            try c.encode(step, forKey: .step)
        case let .reduceMean(axis, keepDims):
            try c.encode(axis, forKey: .axis)
            try c.encode(keepDims, forKey: .keepDims)
        case let .maxPool2d(p):
            try c.encode([p.kernelH, p.kernelW], forKey: .kernel)
            try c.encode([p.strideH, p.strideW], forKey: .stride)
            try c.encode([p.padH, p.padW], forKey: .padding)
            try c.encode(p.ceilMode, forKey: .ceilMode)
        case let .upsampleNearest(height, width):
            try c.encode(height, forKey: .height)
            try c.encode(width, forKey: .width)
        case let .causalConv1d(reverse), let .selectiveScan(reverse): try c.encode(reverse, forKey: .reverse)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let kind = try c.decode(String.self, forKey: .op)
        func positive(_ key: Key) throws -> Int {
            let value = try c.decode(Int.self, forKey: key)
            guard value >= 1 else { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be >= 1") }
            return value
        }
        func pair(_ key: Key, minimum: Int) throws -> (Int, Int) {
            let values = try c.decode([Int].self, forKey: key)
            guard values.count == 2, values.allSatisfy({ $0 >= minimum }) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be two integers >= \(minimum)")
            }
            return (values[0], values[1])
        }
        func convParams() throws -> Conv2dParams {
            let (sh, sw) = try pair(.stride, minimum: 1), (ph, pw) = try pair(.padding, minimum: 0)
            let (dh, dw) = try pair(.dilation, minimum: 1)
            return Conv2dParams(strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw, groups: try positive(.groups))
        }
        switch kind {
        case "linear": self = .linear
        case "softmax": self = .softmax
        case "add": self = .add
        case "sub": self = .sub
        case "mul": self = .mul
        case "div": self = .div
        case "relu": self = .relu
        case "sigmoid": self = .sigmoid
        case "silu": self = .silu
        case "erf": self = .erf
        case "gather": self = .gather
        case "hard_sigmoid": self = .hardSigmoid
        case "matmul": self = .matmul(transposeB: try c.decode(Bool.self, forKey: .transposeB), alpha: try c.decode(Float.self, forKey: .alpha))
        case "conv2d": self = .conv2d(try convParams())
        case "deform_conv2d": self = .deformConv2d(try convParams(), deformGroups: try positive(.deformGroups))
        case "layernorm": self = .layerNorm(epsilon: try c.decode(Float.self, forKey: .epsilon))
        case "rmsnorm": self = .rmsNorm(epsilon: try c.decode(Float.self, forKey: .epsilon))
        case "gelu": self = .gelu(approximate: try c.decode(Bool.self, forKey: .approximate))
        case "clip": self = .clip(min: try c.decode(Float.self, forKey: .min), max: try c.decode(Float.self, forKey: .max))
        case "scale": self = .scale(try c.decode(Float.self, forKey: .factor))
        case "reshape": self = .reshape(try c.decode([Int].self, forKey: .shape))
        case "permute": self = .permute(try c.decode([Int].self, forKey: .permutation))
        case "concat": self = .concat(axis: try c.decode(Int.self, forKey: .axis))
        case "slice":
            self = .slice(axis: try c.decode(Int.self, forKey: .axis), start: try c.decode(Int.self, forKey: .start),
                          end: try c.decode(Int.self, forKey: .end), step: try positive(.step))
        case "reduce_mean": self = .reduceMean(axis: try c.decode(Int.self, forKey: .axis), keepDims: try c.decode(Bool.self, forKey: .keepDims))
        case "maxpool2d":
            let (kh, kw) = try pair(.kernel, minimum: 1), (sh, sw) = try pair(.stride, minimum: 1)
            let (ph, pw) = try pair(.padding, minimum: 0)
            self = .maxPool2d(Pool2dParams(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padH: ph, padW: pw,
                                           ceilMode: try c.decode(Bool.self, forKey: .ceilMode)))
        case "upsample_nearest": self = .upsampleNearest(height: try positive(.height), width: try positive(.width))
        case "causal_conv1d": self = .causalConv1d(reverse: try c.decode(Bool.self, forKey: .reverse))
        case "selective_scan": self = .selectiveScan(reverse: try c.decode(Bool.self, forKey: .reverse))
        case "hadamard": self = .hadamard
        default: throw DecodingError.dataCorruptedError(forKey: .op, in: c, debugDescription: "unknown op '\(kind)'")
        }
    }

    private static func encode(_ p: Conv2dParams, into c: inout KeyedEncodingContainer<Key>) throws {
        try c.encode([p.strideH, p.strideW], forKey: .stride)
        try c.encode([p.padH, p.padW], forKey: .padding)
        try c.encode([p.dilationH, p.dilationW], forKey: .dilation)
        try c.encode(p.groups, forKey: .groups)
    }
}
