import OnboardCore

/// Embedding lookup: rows of a [V, D] table by integer index; an index outside the table throws.
enum GatherOp {
    static func run(_ inputs: [Operand], _ output: Operand, node: String) throws {
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
