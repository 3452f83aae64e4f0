import OnboardCore

/// Output shape and type of each op, with a clear error when the inputs do not fit.
public enum ShapeInference {
    public static func output(of op: Op, inputs: [ValueInfo], node: String) throws -> ([Int], DType) {
        func fail(_ reason: String) -> OnboardError { .shape(item: "node '\(node)' (\(op.kind))", reason: reason) }
        func expectArity(_ range: ClosedRange<Int>) throws {
            guard range.contains(inputs.count) else {
                throw fail("takes \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)...\(range.upperBound)") inputs, got \(inputs.count)")
            }
        }
        func expectFloat<S: Sequence>(_ indices: S) throws where S.Element == Int {
            for i in indices where i < inputs.count && inputs[i].dtype != .f32 {
                throw fail("input '\(inputs[i].name)' is \(inputs[i].dtype), expected f32")
            }
        }
        /// Weights may also be int8 constants (a quantized bundle).
        func expectWeight(_ i: Int) throws {
            let info = inputs[i]
            guard info.dtype == .f32 || (info.dtype == .i8 && info.role == .constant) else {
                throw fail("weight '\(info.name)' is \(info.dtype), expected f32 or an int8 constant")
            }
        }
        let shapes = inputs.map(\.shape)
        switch op {
        case .linear:
            try expectArity(2...3); try expectFloat([0, 2]); try expectWeight(1)
            return (try LinearOp.outputShape(shapes, fail: fail), .f32)
        case let .matmul(transposeB, _):
            try expectArity(2...2); try expectFloat(0..<2)
            return (try MatMulOp.outputShape(shapes, transposeB: transposeB, fail: fail), .f32)
        case let .conv2d(params):
            try expectArity(2...3); try expectFloat([0, 2]); try expectWeight(1)
            return (try Conv2dOp.outputShape(shapes, params: params, fail: fail), .f32)
        case .layerNorm:
            try expectArity(3...3); try expectFloat(0..<3)
            guard let d = shapes[0].last, shapes[1] == [d], shapes[2] == [d] else {
                throw fail("weight and bias must be [\(shapes[0].last ?? 0)], got \(shapes[1]) and \(shapes[2])")
            }
            return (shapes[0], .f32)
        case .gelu, .relu, .sigmoid, .silu, .scale, .hardSigmoid:
            try expectArity(1...1); try expectFloat(0..<1)
            return (shapes[0], .f32)
        case .softmax:
            try expectArity(1...1); try expectFloat(0..<1)
            guard !shapes[0].isEmpty else { throw fail("needs rank >= 1") }
            return (shapes[0], .f32)
        case .add, .sub, .mul, .div:
            try expectArity(2...2); try expectFloat(0..<2)
            guard let shape = Broadcast.shape(shapes[0], shapes[1]) else {
                throw fail("shapes \(shapes[0]) and \(shapes[1]) do not broadcast")
            }
            return (shape, .f32)
        case let .reshape(target):
            try expectArity(1...1)
            guard target.reduce(1, *) == inputs[0].count, target.allSatisfy({ $0 >= 0 }) else {
                throw fail("cannot reshape \(shapes[0]) to \(target)")
            }
            return (target, inputs[0].dtype)
        case let .permute(permutation):
            try expectArity(1...1)
            guard permutation.sorted() == Array(0..<shapes[0].count) else {
                throw fail("\(permutation) is not a permutation of \(shapes[0].count) axes")
            }
            return (permutation.map { shapes[0][$0] }, inputs[0].dtype)
        case let .concat(axis):
            try expectArity(1...Int.max); try expectFloat(0..<inputs.count)
            return (try MovementOps.concatShape(shapes, axis: axis, fail: fail), .f32)
        case let .slice(axis, start, end, step):
            try expectArity(1...1)
            let shape = shapes[0]
            guard axis >= 0, axis < shape.count else { throw fail("axis \(axis) out of range for \(shape)") }
            guard step >= 1, start >= 0, start <= end, end <= shape[axis] else {
                throw fail("slice \(start)..<\(end) step \(step) invalid for dimension \(shape[axis])")
            }
            var out = shape
            out[axis] = (end - start + step - 1) / step
            return (out, inputs[0].dtype)
        case .gather:
            try expectArity(2...2); try expectFloat(0..<1)
            guard shapes[0].count == 2 else { throw fail("table must be rank 2, got \(shapes[0])") }
            guard inputs[1].dtype == .i32 || inputs[1].dtype == .i64 else { throw fail("indices must be i32 or i64") }
            return (shapes[1] + [shapes[0][1]], .f32)
        case let .reduceMean(axis, keepDims):
            try expectArity(1...1); try expectFloat(0..<1)
            guard axis >= 0, axis < shapes[0].count else { throw fail("axis \(axis) out of range for \(shapes[0])") }
            var out = shapes[0]
            if keepDims { out[axis] = 1 } else { out.remove(at: axis) }
            return (out, .f32)
        case let .deformConv2d(params, deformGroups):
            try expectArity(4...5); try expectFloat([0, 1, 2, 4]); try expectWeight(3)
            return (try DeformConv2dOp.outputShape(shapes, params: params, deformGroups: deformGroups, fail: fail), .f32)
        case let .maxPool2d(params):
            try expectArity(1...1); try expectFloat(0..<1)
            return (try MaxPool2dOp.outputShape(shapes[0], params: params, fail: fail), .f32)
        case let .upsampleNearest(height, width):
            try expectArity(1...1); try expectFloat(0..<1)
            return (try UpsampleNearestOp.outputShape(shapes[0], height: height, width: width, fail: fail), .f32)
        }
    }
}

/// Numpy broadcasting.
public enum Broadcast {
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else { return nil }
            out[i] = da == 1 ? db : da
        }
        return out
    }
}
