/// QuantizeLinear and DequantizeLinear on values known at import: the quantized weights, biases and
/// constants of a QDQ model (ONNX Runtime's `quantize_static`) are evaluated here. Pairs on values
/// computed at run time never reach these rules: `QDQStripping` takes them out and keeps their
/// parameters for the INT8 plan.
enum QuantizationRules {
    static let quantizeLinear = ONNXOpRule(fold: { node, inputs in
        guard inputs.count >= 2, let x = inputs[0], let scale = inputs[1] else { throw node.fail("needs x and y_scale") }
        let raw = try node.int("output_dtype", default: Onnx_TensorProto.DataType.uint8.rawValue)
        guard let type = Onnx_TensorProto.DataType(rawValue: raw).flatMap(QuantizationParameters.CodeType.init) else {
            throw node.fail("output type \(raw) is not uint8 or int8")
        }
        let zeroPoint = inputs.count > 2 ? inputs[2] : nil
        let p = try QuantizationParameters(node, scale: scale, zeroPoint: zeroPoint, shape: x.shape, fields: ("y_scale", "y_zero_point"))
        let index = p.parameterIndex(shape: x.shape), values = x.floats
        let codes = values.indices.map { i -> Int64 in
            let s = p.scales[index(i)], q = (values[i] / s).rounded(.toNearestOrEven)
            guard q.isFinite else { return q > 0 ? type.range.upperBound : type.range.lowerBound }
            let code = Int64(max(-1e6, min(1e6, q))) + p.zeroPoints[index(i)]
            return min(max(code, type.range.lowerBound), type.range.upperBound)
        }
        return [ConstantValue(shape: x.shape, integers: codes)]
    })

    static let dequantizeLinear = ONNXOpRule(fold: { node, inputs in
        guard inputs.count >= 2, let x = inputs[0], let scale = inputs[1] else { throw node.fail("needs x and x_scale") }
        guard x.isInteger else { throw node.fail("x must hold integer codes") }
        let zeroPoint = inputs.count > 2 ? inputs[2] : nil
        let p = try QuantizationParameters(node, scale: scale, zeroPoint: zeroPoint, shape: x.shape, fields: ("x_scale", "x_zero_point"))
        let index = p.parameterIndex(shape: x.shape), codes = x.integers
        return [ConstantValue(shape: x.shape, floats: codes.indices.map { Float(codes[$0] &- p.zeroPoints[index($0)]) * p.scales[index($0)] })]
    })
}
