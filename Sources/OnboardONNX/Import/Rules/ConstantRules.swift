import OnboardCore

/// Ops that make or pass values known at import: constants, shapes, casts.
enum ConstantRules {
    static let constant = ONNXOpRule(fold: { node, _ in
        if let tensor = node.tensor("value") { return [try TensorDecoding(modelPath: "").decode(tensor, item: node.name)] }
        if node.has("value_float") { return [ConstantValue(shape: [], floats: [node.float("value_float", default: 0)])] }
        if let floats = node.floats("value_floats") { return [ConstantValue(shape: [floats.count], floats: floats)] }
        if node.has("value_int") { return [ConstantValue(shape: [], integers: [Int64(try node.int("value_int"))])] }
        if let ints = try node.ints("value_ints") { return [ConstantValue(shape: [ints.count], integers: ints.map(Int64.init))] }
        throw node.fail("has no value attribute this importer reads (value, value_float(s), value_int(s))")
    })

    static let constantOfShape = ONNXOpRule(fold: { node, inputs in
        guard let shapeValue = inputs.first ?? nil else { throw node.fail("needs its shape input") }
        let shape = shapeValue.ints
        try MemoryLimit.requireAllocatable(shape, item: node.name)
        let count = shape.reduce(1, *)
        let fill = try node.tensor("value").map { try TensorDecoding(modelPath: "").decode($0, item: node.name) }
            ?? ConstantValue(shape: [1], floats: [0])
        guard fill.count == 1 else { throw node.fail("value must hold one element") }
        return [fill.picking([Int](repeating: 0, count: count), shape: shape)]
    })

    static let range = ONNXOpRule(fold: { node, inputs in
        guard inputs.count == 3, let start = inputs[0], let limit = inputs[1], let delta = inputs[2] else { throw node.fail("needs start, limit and delta") }
        if start.isInteger {
            let (a, b, d) = (start.integers[0], limit.integers[0], delta.integers[0])
            guard d != 0 else { throw node.fail("delta is 0") }
            // In Double: limits near Int64's ends must not overflow the count.
            let span = ((Double(b) - Double(a)) / Double(d)).rounded(.up)
            guard span < 1e12 else { throw node.fail("range \(a) to \(b) by \(d) is too long") }
            let count = max(0, Int(span))
            try MemoryLimit.requireAllocatable([count], item: node.name)
            return [ConstantValue(shape: [count], integers: (0..<count).map { a &+ Int64($0) &* d })]
        }
        let (a, b, d) = (start.floats[0], limit.floats[0], delta.floats[0])
        guard d != 0, ((b - a) / d).isFinite else { throw node.fail("delta \(d) does not step from \(a) to \(b)") }
        let span = ((b - a) / d).rounded(.up)
        guard span < 1e12 else { throw node.fail("range \(a) to \(b) by \(d) is too long") }
        let count = max(0, Int(span))
        try MemoryLimit.requireAllocatable([count], item: node.name)
        return [ConstantValue(shape: [count], floats: (0..<count).map { a + Float($0) * d })]
    })

    /// `Shape` of any value, run-time ones included: shapes are fixed at import.
    static let shape = ONNXOpRule(fold: { node, inputs in
        guard let input = inputs.first ?? nil else { throw node.fail("needs an input") }
        return [try shapeSlice(input.shape, node: node)]
    }, lower: { node, context in
        guard let name = node.input(0) else { throw node.fail("needs an input") }
        return [.constant(try shapeSlice(try context.shape(name, for: node), node: node))]
    })

    static let size = ONNXOpRule(fold: { node, inputs in
        [ConstantValue(shape: [], integers: [Int64((inputs.first ?? nil)?.count ?? 0)])]
    }, lower: { node, context in
        guard let name = node.input(0) else { throw node.fail("needs an input") }
        return [.constant(ConstantValue(shape: [], integers: [Int64(try context.shape(name, for: node).reduce(1, *))]))]
    })

    /// Casts between float types leave a run-time value as it is; to an integer type only known values.
    static let cast = ONNXOpRule(fold: { node, inputs in
        guard let input = inputs.first ?? nil else { throw node.fail("needs an input") }
        let target = try node.int("to")
        switch Onnx_TensorProto.DataType(rawValue: target) {
        case .float?, .double?, .float16?, .bfloat16?: return [ConstantValue(shape: input.shape, floats: input.floats)]
        case .bool?: return [ConstantValue(shape: input.shape, integers: input.floats.map { $0 != 0 ? 1 : 0 })]
        default: return [ConstantValue(shape: input.shape, integers: input.integers)]
        }
    }, lower: { node, context in
        switch Onnx_TensorProto.DataType(rawValue: try node.int("to")) {
        case .float?, .double?, .float16?, .bfloat16?: return [.runtime(try context.runtime(0, of: node))]
        default: throw node.fail("casts a value computed at run time to an integer type")
        }
    })

    /// `Identity`, and `Dropout` in inference.
    static let identity = ONNXOpRule(fold: { node, inputs in
        guard let input = inputs.first ?? nil else { throw node.fail("needs an input") }
        return [input]
    }, lower: { node, context in
        guard let name = node.input(0) else { throw node.fail("needs an input") }
        return [try context.value(name, for: node)]
    })

    private static func shapeSlice(_ shape: [Int], node: ONNXNode) throws -> ConstantValue {
        let rank = shape.count
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
        let start = clamp(try node.int("start", default: 0)), end = clamp(try node.int("end", default: rank))
        let dims = start < end ? Array(shape[start..<end]) : []
        return ConstantValue(shape: [dims.count], integers: dims.map(Int64.init))
    }
}
