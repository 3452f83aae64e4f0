import OnboardCore

/// Element-wise add/sub/mul/div with numpy broadcasting. Rows of the last axis are the unit of
/// work; each operand steps through a row with stride 1 or 0 (broadcast).
struct BinaryOp: OpDefinition {
    enum Kind { case add, sub, mul, div }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(2...2)
        try check.float(0..<2)
        let shapes = check.shapes
        guard let shape = Broadcast.shape(shapes[0], shapes[1]) else {
            throw check.fail("shapes \(shapes[0]) and \(shapes[1]) do not broadcast")
        }
        return (shape, .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    var quantization: QuantizationTraits {
        switch kind {
        case .add: return QuantizationTraits(form: .floatIsland, islandOnCodes: .addition(subtract: false), rowwise: true)
        case .sub: return QuantizationTraits(form: .floatIsland, islandOnCodes: .addition(subtract: true), rowwise: true)
        case .mul, .div: return QuantizationTraits(form: .floatIsland, islandOnCodes: nil, rowwise: true)
        }
    }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        let out = output.shape
        guard output.count > 0 else { return }
        let rank = out.count
        let stridesA = Self.broadcastStrides(inputs[0].shape, to: out)
        let stridesB = Self.broadcastStrides(inputs[1].shape, to: out)
        let n = rank == 0 ? 1 : out[rank - 1]
        let rows = output.count / n
        let stepA = rank == 0 ? 0 : stridesA[rank - 1], stepB = rank == 0 ? 0 : stridesB[rank - 1]
        let a = inputs[0].floats, b = inputs[1].floats, y = output.floats
        let kind = kind
        Parallel.forRanges(count: rows, threads: context.threads, grain: max(1, 8192 / max(n, 1))) { range in
            for row in range {
                var offsetA = 0, offsetB = 0, rest = row
                for axis in stride(from: rank - 2, through: 0, by: -1) {
                    let index = rest % out[axis]
                    rest /= out[axis]
                    offsetA += index * stridesA[axis]
                    offsetB += index * stridesB[axis]
                }
                Self.combine(kind, a + offsetA, stepA, b + offsetB, stepB, y + row * n, n)
            }
        }
    }

    @inline(__always)
    private static func combine(
        _ kind: Kind, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
        _ y: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        switch (kind, sa, sb) {
        case (.add, 1, 1): for i in 0..<n { y[i] = a[i] + b[i] }
        case (.mul, 1, 1): for i in 0..<n { y[i] = a[i] * b[i] }
        case (.add, _, _): for i in 0..<n { y[i] = a[i * sa] + b[i * sb] }
        case (.sub, _, _): for i in 0..<n { y[i] = a[i * sa] - b[i * sb] }
        case (.mul, _, _): for i in 0..<n { y[i] = a[i * sa] * b[i * sb] }
        case (.div, _, _): for i in 0..<n { y[i] = a[i * sa] / b[i * sb] }
        }
    }

    /// Element strides of `shape` seen as broadcast to `target` (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let axis = i + target.count - shape.count
            strides[axis] = shape[i] == 1 ? 0 : step
            step *= shape[i]
        }
        return strides
    }
}
