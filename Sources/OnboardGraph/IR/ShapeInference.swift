import OnboardCore

/// Output shape and type of each op, with a clear error when the inputs do not fit.
public enum ShapeInference {
    /// The op's shape rule (`OpDefinition.outputInfo`) applied to `inputs`; `node` names it in errors.
    public static func output(of op: Op, inputs: [ValueInfo], node: String) throws -> ([Int], DType) {
        try op.definition.outputInfo(ShapeCheck(op: op, node: node, inputs: inputs))
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
