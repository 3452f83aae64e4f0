/// The closed set of graph operations. Each case's semantics, shape rule, FP32 kernel and scratch
/// size, and its traits for quantization live in `Ops/<Name>.swift` (`OpDefinition`); a new case
/// needs a line in `kind` and in `definition`, and the compiler asks for both.
public enum Op: Sendable, Equatable {
    /// `y = x · Wᵀ + b`; inputs x [..., K], weight [N, K], optional bias [N].
    case linear
    /// Batched `alpha · a · b` (or `alpha · a · bᵀ`); a [..., M, K], b [..., K, N] or [..., N, K];
    /// b's batch dimensions equal a's or are absent (b rank 2). `alpha` carries attention's
    /// 1/sqrt(d) so that no extra op (and, in INT8, no extra requantization) is needed.
    case matmul(transposeB: Bool, alpha: Float = 1)
    /// NCHW convolution; inputs x [B, C, H, W], weight [O, C/groups, kh, kw], optional bias [O].
    case conv2d(Conv2dParams)
    /// Normalization over the last axis; inputs x, weight [D], bias [D].
    case layerNorm(epsilon: Float)
    /// Gaussian error linear unit: exact (erf) or the tanh approximation.
    case gelu(approximate: Bool)
    /// Softmax over the last axis.
    case softmax
    /// Element-wise with numpy broadcasting.
    case add, sub, mul, div
    case relu, sigmoid, silu
    /// The Gauss error function (ONNX `Erf`; a QDQ model's GELU whose steps are quantized one by one).
    case erf
    /// `min(max(x, min), max)` (ONNX `Clip`, torch `clamp` / `relu6`); NaN stays NaN.
    case clip(min: Float, max: Float)
    /// `x * factor`.
    case scale(Float)
    /// Same elements, new shape (a view: no copy).
    case reshape([Int])
    /// Axes reordered: output axis i is input axis `permutation[i]`.
    case permute([Int])
    /// Inputs joined along `axis`.
    case concat(axis: Int)
    /// Elements `start..<end` by `step` along `axis`.
    case slice(axis: Int, start: Int, end: Int, step: Int)
    /// Rows of a table [V, D] picked by integer indices [...]: output [..., D].
    case gather
    /// Mean over `axis`.
    case reduceMean(axis: Int, keepDims: Bool)
    /// NCHW max pooling (`torch.nn.MaxPool2d`: padding is -inf, `ceilMode` as torch).
    case maxPool2d(Pool2dParams)
    /// NCHW nearest resize to [height, width] (`F.interpolate(mode="nearest", size=...)`:
    /// source index floor(dst * in / out)).
    case upsampleNearest(height: Int, width: Int)
    /// `relu6(x + 3) / 6` (`F.hardsigmoid`, VoVNet's Hsigmoid).
    case hardSigmoid
    /// Modulated deformable convolution (DCNv2, mmcv `modulated_deform_conv2d`); inputs
    /// x [B, C, H, W], offset [B, 2·dg·kh·kw, oh, ow] ((dy, dx) pairs per kernel tap),
    /// mask [B, dg·kh·kw, oh, ow], weight [O, C/groups, kh, kw], optional bias [O].
    case deformConv2d(Conv2dParams, deformGroups: Int)
    /// Mamba's RMSNorm over the last axis: `x · rsqrt(mean(x²) + epsilon) · weight`; inputs x, weight [D].
    case rmsNorm(epsilon: Float)
    /// Depthwise convolution along the sequence of token-major x [B, L, C]; weight [C, 1, K],
    /// bias [C]. Causal (zeros before the start) or, `reverse`, anti-causal: the causal
    /// convolution of the flipped sequence, flipped back.
    case causalConv1d(reverse: Bool)
    /// Mamba's selective scan with softplus(delta + bias) discretisation, fused; inputs
    /// u, delta [B, L, E], A [E, N], B, C [B, L, N], D [E], delta bias [E], optional gate z
    /// [B, L, E] (output times silu(z)). `reverse` scans from the last token to the first.
    case selectiveScan(reverse: Bool)
    /// Orthonormal Hadamard rotation of each row over the last axis, `x · R` (size n = K·2^m, see
    /// `Hadamard`): an online rotation in front of a Linear that takes `W · R`.
    case hadamard

    /// A short lowercase name for reports.
    public var kind: String {
        switch self {
        case .linear: return "linear"
        case .matmul: return "matmul"
        case .conv2d: return "conv2d"
        case .layerNorm: return "layernorm"
        case .gelu: return "gelu"
        case .softmax: return "softmax"
        case .add: return "add"
        case .sub: return "sub"
        case .mul: return "mul"
        case .div: return "div"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .silu: return "silu"
        case .erf: return "erf"
        case .clip: return "clip"
        case .scale: return "scale"
        case .reshape: return "reshape"
        case .permute: return "permute"
        case .concat: return "concat"
        case .slice: return "slice"
        case .gather: return "gather"
        case .reduceMean: return "reduce_mean"
        case .maxPool2d: return "maxpool2d"
        case .upsampleNearest: return "upsample_nearest"
        case .hardSigmoid: return "hard_sigmoid"
        case .deformConv2d: return "deform_conv2d"
        case .rmsNorm: return "rmsnorm"
        case .causalConv1d: return "causal_conv1d"
        case .selectiveScan: return "selective_scan"
        case .hadamard: return "hadamard"
        }
    }

    /// Whether the output is a view of the first input (shares its memory).
    public var isView: Bool { quantization.isView }

    var quantization: QuantizationTraits { definition.quantization }

    /// The op's shape rule, FP32 kernel, scratch size and quantization traits.
    var definition: any OpDefinition {
        switch self {
        case .linear: return LinearOp()
        case let .matmul(transposeB, alpha): return MatMulOp(transposeB: transposeB, alpha: alpha)
        case let .conv2d(params): return Conv2dOp(params: params)
        case let .layerNorm(epsilon): return LayerNormOp(epsilon: epsilon)
        case let .gelu(approximate): return ActivationOp(.gelu(approximate: approximate))
        case .relu: return ActivationOp(.relu)
        case .sigmoid: return ActivationOp(.sigmoid)
        case .silu: return ActivationOp(.silu)
        case .erf: return ActivationOp(.erf)
        case let .clip(low, high): return ActivationOp(.clip(low, high))
        case let .scale(factor): return ActivationOp(.scale(factor))
        case .softmax: return SoftmaxOp()
        case .add: return BinaryOp(.add)
        case .sub: return BinaryOp(.sub)
        case .mul: return BinaryOp(.mul)
        case .div: return BinaryOp(.div)
        case let .reshape(target): return ReshapeOp(target: target)
        case let .permute(permutation): return PermuteOp(permutation: permutation)
        case let .concat(axis): return ConcatOp(axis: axis)
        case let .slice(axis, start, end, step): return SliceOp(axis: axis, start: start, end: end, step: step)
        case .gather: return GatherOp()
        case let .reduceMean(axis, keepDims): return ReduceMeanOp(axis: axis, keepDims: keepDims)
        case let .maxPool2d(params): return MaxPool2dOp(params: params)
        case let .upsampleNearest(height, width): return UpsampleNearestOp(height: height, width: width)
        case .hardSigmoid: return HardSigmoidOp()
        case let .deformConv2d(params, deformGroups): return DeformConv2dOp(params: params, deformGroups: deformGroups)
        case let .rmsNorm(epsilon): return RMSNormOp(epsilon: epsilon)
        case let .causalConv1d(reverse): return CausalConv1dOp(reverse: reverse)
        case let .selectiveScan(reverse): return SelectiveScanOp(reverse: reverse)
        case .hadamard: return HadamardRotationOp()
        }
    }
}

/// Stride, padding, dilation and groups of a 2-D convolution (torch `Conv2d` semantics).
public struct Conv2dParams: Sendable, Equatable {
    public var stride: (Int, Int) { (strideH, strideW) }
    public let strideH: Int, strideW: Int
    public let padH: Int, padW: Int
    public let dilationH: Int, dilationW: Int
    public let groups: Int

    public init(stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
        self.init(strideH: stride, strideW: stride, padH: padding, padW: padding,
                  dilationH: dilation, dilationW: dilation, groups: groups)
    }

    public init(strideH: Int, strideW: Int, padH: Int, padW: Int, dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1) {
        self.strideH = strideH
        self.strideW = strideW
        self.padH = padH
        self.padW = padW
        self.dilationH = dilationH
        self.dilationW = dilationW
        self.groups = groups
    }
}

/// Kernel, stride, padding and ceil mode of a 2-D pooling (torch `MaxPool2d` semantics, dilation 1).
public struct Pool2dParams: Sendable, Equatable {
    public let kernelH: Int, kernelW: Int
    public let strideH: Int, strideW: Int
    public let padH: Int, padW: Int
    public let ceilMode: Bool

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        self.init(kernelH: kernel, kernelW: kernel, strideH: stride ?? kernel, strideW: stride ?? kernel,
                  padH: padding, padW: padding, ceilMode: ceilMode)
    }

    public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padH: Int, padW: Int, ceilMode: Bool) {
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.strideH = strideH
        self.strideW = strideW
        self.padH = padH
        self.padW = padW
        self.ceilMode = ceilMode
    }
}
