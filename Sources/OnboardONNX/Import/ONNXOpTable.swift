/// Every ONNX op type the importer reads (default domain), with its rule. An op type not listed
/// is an error naming the node, its op type and the opset; docs/onnx.md lists the same table.
enum ONNXOpTable {
    /// Ops made by `ONNXFusions` live in this domain.
    static let fusedDomain = "ai.onboard"

    static let rules: [String: ONNXOpRule] = [
        "Constant": ConstantRules.constant,
        "ConstantOfShape": ConstantRules.constantOfShape,
        "Range": ConstantRules.range,
        "Shape": ConstantRules.shape,
        "Size": ConstantRules.size,
        "Cast": ConstantRules.cast,
        "Identity": ConstantRules.identity,
        "Dropout": ConstantRules.identity,
        "Add": ElementwiseRules.add,
        "Sub": ElementwiseRules.sub,
        "Mul": ElementwiseRules.mul,
        "Div": ElementwiseRules.div,
        "Pow": ElementwiseRules.pow,
        "Sqrt": ElementwiseRules.sqrt,
        "Erf": ElementwiseRules.erf,
        "Neg": ElementwiseRules.neg,
        "Equal": ElementwiseRules.equal,
        "Less": ElementwiseRules.less,
        "Greater": ElementwiseRules.greater,
        "Where": ElementwiseRules.where,
        "Relu": ElementwiseRules.relu,
        "Sigmoid": ElementwiseRules.sigmoid,
        "Clip": ElementwiseRules.clip,
        "HardSigmoid": ElementwiseRules.hardSigmoid,
        "HardSwish": ElementwiseRules.hardSwish,
        "Gelu": ElementwiseRules.gelu,
        "Reshape": MovementRules.reshape,
        "Flatten": MovementRules.flatten,
        "Squeeze": MovementRules.squeeze,
        "Unsqueeze": MovementRules.unsqueeze,
        "Transpose": MovementRules.transpose,
        "Concat": MovementRules.concat,
        "Slice": MovementRules.slice,
        "Split": MovementRules.split,
        "Gather": MovementRules.gather,
        "Expand": MovementRules.expand,
        "Conv": ConvolutionRules.conv,
        "MaxPool": ConvolutionRules.maxPool,
        "GlobalAveragePool": ConvolutionRules.globalAveragePool,
        "MatMul": LinearRules.matMul,
        "Gemm": LinearRules.gemm,
        "LayerNormalization": NormalizationRules.layerNormalization,
        "BatchNormalization": NormalizationRules.batchNormalization,
        "Softmax": NormalizationRules.softmax,
        "ReduceMean": NormalizationRules.reduceMean,
        "QuantizeLinear": QuantizationRules.quantizeLinear,
        "DequantizeLinear": QuantizationRules.dequantizeLinear,
    ]

    static let fusedRules: [String: ONNXOpRule] = [
        "Linear": LinearRules.linear,
    ]

    static func rule(for node: ONNXNode) -> ONNXOpRule? {
        switch node.proto.domain {
        case "", "ai.onnx": return rules[node.opType]
        case fusedDomain: return fusedRules[node.opType]
        default: return nil
        }
    }
}
