import OnboardCore

/// Everything the graph needs to know about one op, stated once in the op's own file
/// (`Ops/<Name>.swift`) and read by shape inference, both executors, the calibrator and consumer
/// clipping. `Op.definition` maps every case to its definition in one exhaustive switch, so a new
/// case does not compile until it has one, and a definition does not compile until it answers
/// every requirement.
protocol OpDefinition {
    /// Output shape and type for the node's inputs, or `check.fail(reason)` thrown.
    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType)
    /// Bytes of scratch the FP32 kernel needs for these input and output shapes.
    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int
    /// The FP32 kernel: the executable definition of the op. `node` names it in errors.
    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) throws
    /// How the INT8 path treats the op.
    var quantization: QuantizationTraits { get }
}

/// What the INT8 executor, the calibrator and consumer clipping need to know of an op.
struct QuantizationTraits: Equatable {
    /// What the op does to 8-bit codes.
    enum Form: Equatable {
        /// The output is the input's memory under another shape: nothing runs.
        case view
        /// The output holds a subset or rearrangement of its single input's elements, so the kernel
        /// runs on the codes and the output shares the input's parameters.
        case movesCodesOnly
        /// Runs on an integer kernel where its operands allow (`IntegerKernel.runs`), as a float
        /// island elsewhere.
        case integerKernel(IntegerKernel)
        /// Always a float island: dequantize, FP32 kernel, quantize (`FloatIsland`).
        case floatIsland
    }

    /// A float island the INT8 executor computes straight from codes, with the same results.
    enum IslandOnCodes: Equatable {
        /// Element-wise on one input: a 256-entry code-to-code table (`QuantizedElementwise`).
        /// `saturates`: flat beyond some input value on either side, so consumer clipping may cut
        /// the range of the tensor it reads (`ConsumerClipping`).
        case unaryTable(saturates: Bool)
        /// Add or subtract two code tensors, or codes and a constant (`QuantizedElementwise.add`).
        case addition(subtract: Bool)
        /// Row normalization over the last axis, a block of rows at a time (`QuantizedRows`).
        case rows(RowNormalization)
    }

    let form: Form
    let islandOnCodes: IslandOnCodes?
    /// Each row (along the last axis) of the output depends only on the same row of the first
    /// input and on constants, so a float island may run a block of rows at a time (`TiledIsland`).
    let rowwise: Bool

    init(form: Form, islandOnCodes: IslandOnCodes?, rowwise: Bool = false) {
        self.form = form
        self.islandOnCodes = islandOnCodes
        switch islandOnCodes {
        case .unaryTable, .rows: self.rowwise = true
        case .addition, nil: self.rowwise = rowwise
        }
    }

    static let view = QuantizationTraits(form: .view, islandOnCodes: nil)
    static let movesCodesOnly = QuantizationTraits(form: .movesCodesOnly, islandOnCodes: nil)
    static let floatIsland = QuantizationTraits(form: .floatIsland, islandOnCodes: nil)

    var isView: Bool { form == .view }

    /// Views and ops that only move codes: their outputs reuse their input's parameters.
    var movesCodesOnly: Bool {
        switch form {
        case .view, .movesCodesOnly: return true
        case .integerKernel, .floatIsland: return false
        }
    }

    var integerKernel: IntegerKernel? {
        if case let .integerKernel(kernel) = form { return kernel }
        return nil
    }

    /// A unary op the INT8 executor runs as a code table.
    var hasUnaryTable: Bool {
        if case .unaryTable = islandOnCodes { return true }
        return false
    }

    /// A code table that saturates (consumer clipping may cut its input's range).
    var saturates: Bool { islandOnCodes == .unaryTable(saturates: true) }
}

/// The row normalizations that `QuantizedRows` runs on codes.
enum RowNormalization: Equatable {
    case softmax
    case layerNorm(epsilon: Float)
}

/// One node's inputs as a shape rule sees them, with the checks most rules start with.
struct ShapeCheck {
    let op: Op
    let node: String
    let inputs: [ValueInfo]
    let shapes: [[Int]]

    init(op: Op, node: String, inputs: [ValueInfo]) {
        self.op = op
        self.node = node
        self.inputs = inputs
        shapes = inputs.map(\.shape)
    }

    func fail(_ reason: String) -> OnboardError { .shape(item: "node '\(node)' (\(op.kind))", reason: reason) }

    func arity(_ range: ClosedRange<Int>) throws {
        guard range.contains(inputs.count) else {
            let expected = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)...\(range.upperBound)"
            throw fail("takes \(expected) inputs, got \(inputs.count)")
        }
    }

    func float<S: Sequence>(_ indices: S) throws where S.Element == Int {
        for i in indices where i < inputs.count && inputs[i].dtype != .f32 {
            throw fail("input '\(inputs[i].name)' is \(inputs[i].dtype), expected f32")
        }
    }

    /// Weights may also be int8 constants (a quantized bundle).
    func weight(_ i: Int) throws {
        let info = inputs[i]
        guard info.dtype == .f32 || (info.dtype == .i8 && info.role == .constant) else {
            throw fail("weight '\(info.name)' is \(info.dtype), expected f32 or an int8 constant")
        }
    }

    /// The rule of element-wise unary ops: one f32 input, same shape out.
    func unaryElementwise() throws -> ([Int], DType) {
        try arity(1...1)
        try float(0..<1)
        return (shapes[0], .f32)
    }
}
