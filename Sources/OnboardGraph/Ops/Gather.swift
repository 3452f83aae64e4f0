import OnboardCore

/// Embedding lookup: rows of a [V, D] table by integer index; an index outside the table throws.
struct GatherOp: OpDefinition {
    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(2...2)
        try check.float(0..<1)
        let (shapes, inputs) = (check.shapes, check.inputs)
        guard shapes[0].count == 2 else { throw check.fail("table must be rank 2, got \(shapes[0])") }
        guard inputs[1].dtype == .i32 || inputs[1].dtype == .i64 else { throw check.fail("indices must be i32 or i64") }
        return (shapes[1] + [shapes[0][1]], .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    var quantization: QuantizationTraits { .floatIsland }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) throws {
        let table = inputs[0], indices = inputs[1]
        let rows = table.shape[0], width = table.shape[1]
        for i in 0..<indices.count {
            let index = indices.dtype == .i64
                ? Int(indices.pointer.load(fromByteOffset: i * 8, as: Int64.self))
                : Int(indices.pointer.load(fromByteOffset: i * 4, as: Int32.self))
            guard index >= 0, index < rows else {
                throw OnboardError.model(item: "node '\(node)' (gather)", reason: "index \(index) outside the table of \(rows) rows")
            }
            (output.floats + i * width).update(from: table.floats + index * width, count: width)
        }
    }
}
