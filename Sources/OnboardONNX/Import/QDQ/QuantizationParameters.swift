import OnboardGraph

/// The scale and zero point of one QuantizeLinear or DequantizeLinear node, checked: every scale
/// finite and positive, one value for the whole tensor or one per slice along `axis` (as many as
/// the quantized tensor has there), as many zero points as scales.
struct QuantizationParameters: Equatable {
    let scales: [Float]
    let zeroPoints: [Int64]
    /// The axis the values run along; nil for one value for the whole tensor.
    let axis: Int?

    /// - Parameters:
    ///   - fields: the node's names of its scale and zero point inputs (`y_scale`, `x_zero_point`, ...).
    /// - Parameter shape: the quantized tensor's; nil when not known yet (a run-time activation,
    ///   which must then have one value).
    init(_ node: ONNXNode, scale: ConstantValue, zeroPoint: ConstantValue?, shape: [Int]?, fields: (scale: String, zeroPoint: String)) throws {
        guard try node.int("block_size", default: 0) == 0 else { throw node.fail("blocked quantization (block_size) is not supported") }
        guard !scale.isInteger, scale.count >= 1 else { throw node.fail("\(fields.scale) must hold floating-point values") }
        let scales = scale.floats
        if let bad = scales.first(where: { !($0.isFinite && $0 > 0) }) {
            throw node.fail("\(fields.scale) is \(bad); a scale must be finite and positive")
        }
        let zeroPoints = zeroPoint?.integers ?? [Int64](repeating: 0, count: scales.count)
        guard zeroPoints.count == scales.count else {
            throw node.fail("\(fields.zeroPoint) has \(zeroPoints.count) values and \(fields.scale) \(scales.count)")
        }
        if scale.shape.isEmpty || scales.count == 1 && scale.shape == [1] {
            axis = nil
        } else if let shape {
            let axis = try node.axis(try node.int("axis", default: 1), rank: shape.count)
            guard scale.shape.count == 1, axis < shape.count, shape[axis] == scales.count else {
                throw node.fail("\(fields.scale) has shape \(scale.shape); per-axis parameters need one value per slice of axis \(axis) of \(shape)")
            }
            self.axis = axis
        } else {
            axis = try node.int("axis", default: 1)
        }
        self.scales = scales
        self.zeroPoints = zeroPoints
    }

    /// The index into `scales` of each element of a tensor of `shape`.
    func parameterIndex(shape: [Int]) -> (Int) -> Int {
        guard let axis else { return { _ in 0 } }
        let inner = shape[(axis + 1)...].reduce(1, *), size = shape[axis]
        return { ($0 / inner) % size }
    }

    /// The 8-bit code type of a zero point (`uint8` when the node has none), with its range.
    enum CodeType: Equatable {
        case uint8, int8

        init?(_ type: Onnx_TensorProto.DataType) {
            switch type {
            case .uint8: self = .uint8
            case .int8: self = .int8
            default: return nil
            }
        }

        var range: ClosedRange<Int64> { self == .uint8 ? 0...255 : -128...127 }
        /// What added to a code of this type gives Onboard's u8 code of the same value.
        var offsetToUnsigned: Int32 { self == .uint8 ? 0 : 128 }
    }

    /// The parameters of an activation tensor as the INT8 executor stores it (u8 codes: an int8
    /// code and zero point are shifted by 128, which keeps every value), or an error naming the field.
    func activation(_ node: ONNXNode, type: CodeType, fields: (scale: String, zeroPoint: String)) throws -> ActivationQuant {
        guard axis == nil, scales.count == 1 else {
            throw node.fail("\(fields.scale) has \(scales.count) values: per-axis parameters of an activation are not supported (Onboard has one per tensor)")
        }
        guard type.range.contains(zeroPoints[0]) else {
            throw node.fail("\(fields.zeroPoint) \(zeroPoints[0]) is outside the range of its type \(type) (\(type.range))")
        }
        return ActivationQuant(scale: scales[0], zeroPoint: Int32(zeroPoints[0]) + type.offsetToUnsigned, qmin: 0, qmax: 255)
    }
}
