import OnboardCore

/// The shape arithmetic of ONNX's movement ops, shared by folding and lowering.
enum ShapeRules {
    /// `Reshape`'s target with 0 (copy the input's dimension unless `allowzero`) and one -1 resolved.
    static func reshape(_ shape: [Int], to target: [Int], allowZero: Bool, node: ONNXNode) throws -> [Int] {
        var out = target
        for (i, dim) in target.enumerated() where dim == 0 && !allowZero {
            guard i < shape.count else { throw node.fail("target \(target) copies dimension \(i) of \(shape), which has no such dimension") }
            out[i] = shape[i]
        }
        let count = MemoryLimit.product(shape) ?? 0
        let unknown = out.indices.filter { out[$0] == -1 }
        guard unknown.count <= 1, out.allSatisfy({ $0 >= -1 }) else { throw node.fail("invalid reshape target \(target)") }
        let known = MemoryLimit.product(out.filter { $0 != -1 })
        if let index = unknown.first {
            guard let known, known > 0, count % known == 0 else { throw node.fail("cannot reshape \(shape) to \(target)") }
            out[index] = count / known
        }
        guard MemoryLimit.product(out) == count else { throw node.fail("cannot reshape \(shape) to \(target)") }
        return out
    }

    /// Axes as non-negative indices for a tensor of `rank`, no repeats.
    static func axes(_ axes: [Int], rank: Int, node: ONNXNode) throws -> [Int] {
        let resolved = try axes.map { try node.axis($0, rank: rank) }
        guard Set(resolved).count == resolved.count else { throw node.fail("axes \(axes) repeat an axis") }
        return resolved
    }

    static func unsqueeze(_ shape: [Int], axes given: [Int], node: ONNXNode) throws -> [Int] {
        let rank = shape.count + given.count
        let axes = try axes(given, rank: rank, node: node)
        var out: [Int] = []
        var rest = shape.makeIterator()
        for i in 0..<rank { out.append(axes.contains(i) ? 1 : (rest.next() ?? 1)) }
        return out
    }

    /// Without axes: every dimension of size 1 goes.
    static func squeeze(_ shape: [Int], axes given: [Int]?, node: ONNXNode) throws -> [Int] {
        guard let given else { return shape.filter { $0 != 1 } }
        let axes = try axes(given, rank: shape.count, node: node)
        for axis in axes where shape[axis] != 1 { throw node.fail("cannot squeeze axis \(axis) of size \(shape[axis])") }
        return shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
    }

    static func flatten(_ shape: [Int], axis given: Int, node: ONNXNode) throws -> [Int] {
        let axis = given < 0 ? given + shape.count : given
        guard axis >= 0, axis <= shape.count else { throw node.fail("axis \(given) is out of range for rank \(shape.count)") }
        return [shape[..<axis].reduce(1, *), shape[axis...].reduce(1, *)]
    }

    /// `Slice` along each axis: (axis, start, end, step) with ONNX's clamping; steps must be positive.
    static func slices(_ shape: [Int], starts: [Int], ends: [Int], axes given: [Int]?, steps: [Int]?,
                       node: ONNXNode) throws -> [(axis: Int, start: Int, end: Int, step: Int)] {
        let axes = try axes(given ?? Array(0..<starts.count), rank: shape.count, node: node)
        let steps = steps ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw node.fail("starts, ends, axes and steps differ in length")
        }
        return try axes.indices.map { i in
            let dim = shape[axes[i]]
            guard steps[i] >= 1 else { throw node.fail("step \(steps[i]) is not supported (only positive steps)") }
            func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + dim : value, 0), dim) }
            let start = clamp(starts[i])
            return (axes[i], start, max(clamp(ends[i]), start), steps[i])
        }
    }

    /// `Split`'s part sizes along `axis` of size `dim`: given, or `parts` equal parts (the last smaller).
    static func splitSizes(dim: Int, given: [Int]?, parts: Int, node: ONNXNode) throws -> [Int] {
        if let given {
            guard given.allSatisfy({ $0 >= 0 }), given.reduce(0, +) == dim else { throw node.fail("split sizes \(given) do not add up to \(dim)") }
            return given
        }
        guard parts >= 1 else { throw node.fail("has no outputs") }
        let size = (dim + parts - 1) / parts
        return (0..<parts).map { max(0, min(size, dim - $0 * size)) }
    }

    /// The transpose permutation: given, or the axes reversed.
    static func permutation(_ perm: [Int]?, rank: Int, node: ONNXNode) throws -> [Int] {
        let perm = perm ?? Array((0..<rank).reversed())
        guard perm.sorted() == Array(0..<rank) else { throw node.fail("perm \(perm) is not a permutation of \(rank) axes") }
        return perm
    }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        return strides
    }

    /// Flat indices of a tensor of `shape`, visited in row-major order of `out` where output
    /// coordinate i maps to input coordinate `map(i)`.
    static func gatherIndices(out: [Int], source: ([Int]) -> Int) -> [Int] {
        let count = out.reduce(1, *)
        var indices = [Int](repeating: 0, count: count)
        var coordinate = [Int](repeating: 0, count: out.count)
        for flat in 0..<count {
            indices[flat] = source(coordinate)
            var axis = out.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                if coordinate[axis] < out[axis] { break }
                coordinate[axis] = 0
                axis -= 1
            }
        }
        return indices
    }
}
