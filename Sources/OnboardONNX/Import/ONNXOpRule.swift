/// How the importer handles one ONNX op type: `fold` evaluates it when every input is known at
/// import (shape arithmetic, constants), `lower` emits graph nodes when some input is computed at
/// run time. A rule may have either or both; `ONNXOpTable` lists them all.
struct ONNXOpRule: Sendable {
    /// Inputs in order, nil where an optional input is left out; one value per output.
    typealias Fold = @Sendable (ONNXNode, [ConstantValue?]) throws -> [ConstantValue]
    /// One value per output.
    typealias Lower = @Sendable (ONNXNode, ImportContext) throws -> [ImportedValue]

    let fold: Fold?
    let lower: Lower?

    init(fold: Fold? = nil, lower: Lower? = nil) {
        self.fold = fold
        self.lower = lower
    }
}
