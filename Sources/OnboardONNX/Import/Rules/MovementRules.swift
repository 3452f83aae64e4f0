import OnboardCore
import OnboardGraph

/// Ops that move or reshape elements: views and copies in the graph, index arithmetic when folded.
enum MovementRules {
    /// An op whose output is its first input in a new shape.
    private static func shapeOnly(_ target: @escaping @Sendable (ONNXNode, [Int], (Int) -> ConstantValue?) throws -> [Int]) -> ONNXOpRule {
        ONNXOpRule(fold: { node, inputs in
            guard let x = inputs.first ?? nil else { throw node.fail("needs an input") }
            return [x.reshaped(try target(node, x.shape, { $0 < inputs.count ? inputs[$0] : nil }))]
        }, lower: { node, context in
            let x = try context.runtime(0, of: node)
            let shape = try target(node, context.builder.shape(x), { context.constant(node.input($0)) })
            return [.runtime(shape == context.builder.shape(x) ? x : try context.emit(.reshape(shape), [x], name: node.outputs[0]))]
        })
    }

    static let reshape = shapeOnly { node, shape, input in
        guard let target = input(1) else { throw node.fail("its target shape must be known when the model is imported") }
        return try ShapeRules.reshape(shape, to: target.ints, allowZero: try node.int("allowzero", default: 0) != 0, node: node)
    }

    static let flatten = shapeOnly { node, shape, _ in try ShapeRules.flatten(shape, axis: try node.int("axis", default: 1), node: node) }

    /// Axes from the attribute (before opset 13) or the second input.
    private static func axes(_ node: ONNXNode, _ input: (Int) -> ConstantValue?) throws -> [Int]? {
        if node.opset < 13 { return try node.ints("axes") }
        if node.input(1) != nil && input(1) == nil { throw node.fail("its axes must be known when the model is imported") }
        return input(1)?.ints
    }

    static let unsqueeze = shapeOnly { node, shape, input in
        guard let axes = try axes(node, input) else { throw node.fail("needs axes") }
        return try ShapeRules.unsqueeze(shape, axes: axes, node: node)
    }

    static let squeeze = shapeOnly { node, shape, input in try ShapeRules.squeeze(shape, axes: try axes(node, input), node: node) }

    static let transpose = ONNXOpRule(fold: { node, inputs in
        guard let x = inputs.first ?? nil else { throw node.fail("needs an input") }
        let perm = try ShapeRules.permutation(try node.ints("perm"), rank: x.shape.count, node: node)
        let out = perm.map { x.shape[$0] }, strides = ShapeRules.strides(x.shape)
        return [x.picking(ShapeRules.gatherIndices(out: out) { c in c.indices.reduce(0) { $0 + c[$1] * strides[perm[$1]] } }, shape: out)]
    }, lower: { node, context in
        let x = try context.runtime(0, of: node)
        let perm = try ShapeRules.permutation(try node.ints("perm"), rank: context.builder.shape(x).count, node: node)
        return [.runtime(perm == Array(perm.indices) ? x : try context.emit(.permute(perm), [x], name: node.outputs[0]))]
    })

    static let concat = ONNXOpRule(fold: { node, inputs in
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw node.fail("needs inputs") }
        let axis = try node.axis(try node.int("axis"), rank: first.shape.count)
        for part in parts where part.shape.count != first.shape.count || part.shape.indices.contains(where: { $0 != axis && part.shape[$0] != first.shape[$0] }) {
            throw node.fail("cannot join \(first.shape) and \(part.shape) along axis \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *)
        var out = first.shape
        out[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
        var pieces: [ConstantValue] = []
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[axis...].reduce(1, *)
                pieces.append(part.picking(Array(o * block..<(o + 1) * block), shape: [block]))
            }
        }
        return [joined(pieces, shape: out)]
    }, lower: { node, context in
        let parts = try node.inputs.indices.filter { node.input($0) != nil }.map { try context.runtime($0, of: node) }
        guard let first = parts.first else { throw node.fail("needs inputs") }
        if parts.count == 1 { return [.runtime(first)] }
        let axis = try node.axis(try node.int("axis"), rank: context.builder.shape(first).count)
        return [.runtime(try context.emit(.concat(axis: axis), parts, name: node.outputs[0]))]
    })

    /// Starts, ends, axes and steps from attributes (before opset 10) or inputs 1-4.
    private static func slices(_ node: ONNXNode, shape: [Int], _ input: (Int) -> ConstantValue?) throws
        -> [(axis: Int, start: Int, end: Int, step: Int)] {
        if node.opset < 10 {
            return try ShapeRules.slices(shape, starts: try node.ints("starts") ?? [], ends: try node.ints("ends") ?? [],
                                         axes: try node.ints("axes"), steps: nil, node: node)
        }
        for index in 1...4 where node.input(index) != nil && input(index) == nil {
            throw node.fail("its starts, ends, axes and steps must be known when the model is imported")
        }
        guard let starts = input(1), let ends = input(2) else { throw node.fail("needs starts and ends") }
        return try ShapeRules.slices(shape, starts: starts.ints, ends: ends.ints, axes: input(3)?.ints, steps: input(4)?.ints, node: node)
    }

    static let slice = ONNXOpRule(fold: { node, inputs in
        guard let x = inputs.first ?? nil else { throw node.fail("needs an input") }
        return [sliced(x, try slices(node, shape: x.shape) { $0 < inputs.count ? inputs[$0] : nil })]
    }, lower: { node, context in
        var x = try context.runtime(0, of: node)
        let ranges = try slices(node, shape: context.builder.shape(x)) { context.constant(node.input($0)) }
        for (i, r) in ranges.enumerated() where !(r.start == 0 && r.end == context.builder.shape(x)[r.axis] && r.step == 1) {
            let name = i == ranges.count - 1 ? node.outputs[0] : "\(node.outputs[0])/axis\(r.axis)"
            x = try context.emit(.slice(axis: r.axis, start: r.start, end: r.end, step: r.step), [x], name: name)
        }
        return [.runtime(x)]
    })

    /// Part sizes from the second input (opset 13+), the `split` attribute, or equal parts.
    private static func splitSizes(_ node: ONNXNode, dim: Int, _ input: (Int) -> ConstantValue?) throws -> [Int] {
        if node.input(1) != nil && input(1) == nil { throw node.fail("its split sizes must be known when the model is imported") }
        return try ShapeRules.splitSizes(dim: dim, given: input(1)?.ints ?? (try node.ints("split")),
                                         parts: try node.int("num_outputs", default: node.outputs.count), node: node)
    }

    static let split = ONNXOpRule(fold: { node, inputs in
        guard let x = inputs.first ?? nil else { throw node.fail("needs an input") }
        let axis = try node.axis(try node.int("axis", default: 0), rank: x.shape.count)
        var start = 0
        return try splitSizes(node, dim: x.shape[axis]) { $0 < inputs.count ? inputs[$0] : nil }.map { size in
            defer { start += size }
            return sliced(x, [(axis, start, start + size, 1)])
        }
    }, lower: { node, context in
        let x = try context.runtime(0, of: node)
        let shape = context.builder.shape(x)
        let axis = try node.axis(try node.int("axis", default: 0), rank: shape.count)
        let sizes = try splitSizes(node, dim: shape[axis]) { context.constant(node.input($0)) }
        guard sizes.count == node.outputs.count else { throw node.fail("\(sizes.count) parts for \(node.outputs.count) outputs") }
        var start = 0
        return try zip(sizes, node.outputs).map { size, name in
            defer { start += size }
            return .runtime(try context.emit(.slice(axis: axis, start: start, end: start + size, step: 1), [x], name: name))
        }
    })

    static let gather = ONNXOpRule(fold: { node, inputs in
        let operands = try ElementwiseRules.operands(inputs, 2, node)
        let (data, indices) = (operands[0], operands[1])
        let axis = try node.axis(try node.int("axis", default: 0), rank: data.shape.count)
        let rows = try resolvedIndices(indices.ints, size: data.shape[axis], node: node)
        let out = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        let strides = ShapeRules.strides(data.shape), rank = indices.shape.count
        return [data.picking(ShapeRules.gatherIndices(out: out) { c in
            var source = 0
            for a in 0..<axis { source += c[a] * strides[a] }
            var row = 0, step = 1
            for k in stride(from: rank - 1, through: 0, by: -1) { row += c[axis + k] * step; step *= indices.shape[k] }
            source += rows[row] * strides[axis]
            for a in (axis + 1)..<max(data.shape.count, axis + 1) { source += c[a + rank - 1] * strides[a] }
            return source
        }, shape: out)]
    }, lower: { node, context in
        if let indices = context.constant(node.input(1)) {
            return [.runtime(try gatherKnownIndices(node, context, indices))]
        }
        guard context.constant(node.input(0)) != nil, try node.int("axis", default: 0) == 0,
              try context.shape(node.input(0) ?? "", for: node).count == 2 else {
            throw node.fail("run-time indices are supported only into a known [rows, width] table along axis 0")
        }
        return [.runtime(try context.emit(.gather, [try context.runtime(0, of: node), try context.runtime(1, of: node)], name: node.outputs[0]))]
    })

    static let expand = ONNXOpRule(fold: { node, inputs in
        let operands = try ElementwiseRules.operands(inputs, 2, node)
        let out = try ConstantBroadcast.shape([operands[0].shape, operands[1].ints], node: node)
        try MemoryLimit.requireAllocatable(out, item: node.name)
        return [operands[0].picking(ConstantBroadcast.sourceIndices(operands[0].shape, to: out), shape: out)]
    }, lower: { node, context in
        let x = try context.runtime(0, of: node)
        let target = try context.requireConstant(1, of: node, what: "shape").ints
        let shape = context.builder.shape(x)
        guard try ConstantBroadcast.shape([shape, target], node: node) == shape else {
            throw node.fail("expanding a value computed at run time to a larger shape is not supported")
        }
        return [.runtime(x)]
    })

    /// Indices into a dimension of `size`, negative ones counted from the end; out of range is an error.
    private static func resolvedIndices(_ indices: [Int], size: Int, node: ONNXNode) throws -> [Int] {
        try indices.map { index in
            let resolved = index < 0 ? index + size : index
            guard resolved >= 0, resolved < size else { throw node.fail("index \(index) is outside a dimension of \(size)") }
            return resolved
        }
    }

    /// Known indices into a run-time value: slices (one per run of consecutive indices) joined,
    /// the axis dropped for a scalar index.
    private static func gatherKnownIndices(_ node: ONNXNode, _ context: ImportContext, _ indices: ConstantValue) throws -> ValueID {
        let x = try context.runtime(0, of: node)
        let shape = context.builder.shape(x), output = node.outputs[0]
        let axis = try node.axis(try node.int("axis", default: 0), rank: shape.count)
        let rows = try resolvedIndices(indices.ints, size: shape[axis], node: node)
        var runs: [(start: Int, end: Int)] = []
        for row in rows {
            if let last = runs.last, last.end == row { runs[runs.count - 1].end = row + 1 } else { runs.append((row, row + 1)) }
        }
        var parts: [ValueID] = []
        for (i, run) in runs.enumerated() {
            parts.append(try context.emit(.slice(axis: axis, start: run.start, end: run.end, step: 1), [x], name: "\(output)/part\(i)"))
        }
        guard let first = parts.first else { throw node.fail("gathers no index") }
        var joined = parts.count == 1 ? first : try context.emit(.concat(axis: axis), parts, name: "\(output)/joined")
        let out = Array(shape[..<axis]) + indices.shape + Array(shape[(axis + 1)...])
        if context.builder.shape(joined) != out { joined = try context.emit(.reshape(out), [joined], name: output) }
        return joined
    }

    private static func sliced(_ x: ConstantValue, _ ranges: [(axis: Int, start: Int, end: Int, step: Int)]) -> ConstantValue {
        var out = x.shape
        var starts = [Int](repeating: 0, count: x.shape.count), steps = [Int](repeating: 1, count: x.shape.count)
        for r in ranges {
            out[r.axis] = (r.end - r.start + r.step - 1) / r.step
            starts[r.axis] = r.start
            steps[r.axis] = r.step
        }
        let strides = ShapeRules.strides(x.shape)
        return x.picking(ShapeRules.gatherIndices(out: out) { c in c.indices.reduce(0) { $0 + (starts[$1] + c[$1] * steps[$1]) * strides[$1] } }, shape: out)
    }

    private static func joined(_ pieces: [ConstantValue], shape: [Int]) -> ConstantValue {
        if pieces.allSatisfy(\.isInteger) { return ConstantValue(shape: shape, integers: pieces.flatMap(\.integers)) }
        return ConstantValue(shape: shape, floats: pieces.flatMap(\.floats))
    }
}
