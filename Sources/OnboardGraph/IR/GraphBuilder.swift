import OnboardCore

/// Builds a `Graph` node by node, inferring and checking every shape as it goes.
public final class GraphBuilder {
    private var values: [ValueInfo] = []
    private var nodes: [Node] = []
    private var inputs: [ValueID] = []
    private var outputs: [ValueID] = []
    private var constants: [ValueID: Tensor] = [:]
    private var weightScales: [ValueID: [Float]] = [:]
    private var names: Set<String> = []

    public init() {}

    public func shape(_ id: ValueID) -> [Int] { values[id.index].shape }

    public func info(_ id: ValueID) -> ValueInfo { values[id.index] }

    public func input(_ name: String, shape: [Int], dtype: DType = .f32) throws -> ValueID {
        let id = try newValue(name, shape: shape, dtype: dtype, role: .input)
        inputs.append(id)
        return id
    }

    /// A constant; int8 weights come with their scales (one, one per output channel, or for a 2-D
    /// weight one per output channel and equal group of its inputs, in row order).
    public func constant(_ name: String, _ tensor: Tensor, scales: [Float]? = nil) throws -> ValueID {
        if tensor.dtype == .i8 {
            let channels = tensor.shape.first ?? 1
            guard let scales, QuantizedWeight.fits(scaleCount: scales.count, weightShape: tensor.shape),
                  scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw OnboardError.model(item: name, reason: "int8 constant needs 1, \(channels) or \(channels) x groups positive scales")
            }
        }
        let id = try newValue(name, shape: tensor.shape, dtype: tensor.dtype, role: .constant)
        constants[id] = tensor
        if let scales, tensor.dtype == .i8 { weightScales[id] = scales }
        return id
    }

    /// Appends a node; its output is named `name`.
    @discardableResult
    public func node(_ op: Op, _ operands: [ValueID], name: String) throws -> ValueID {
        let operandInfo = operands.map { values[$0.index] }
        let (shape, dtype) = try ShapeInference.output(of: op, inputs: operandInfo, node: name)
        let id = try newValue(name, shape: shape, dtype: dtype, role: .computed)
        nodes.append(Node(name: name, op: op, inputs: operands, output: id))
        return id
    }

    public func markOutput(_ id: ValueID) {
        if !outputs.contains(id) { outputs.append(id) }
    }

    public func build() throws -> Graph {
        guard !outputs.isEmpty else { throw OnboardError.model(item: "graph", reason: "no outputs") }
        return Graph(values: values, nodes: nodes, inputs: inputs, outputs: outputs, constants: constants, weightScales: weightScales)
    }

    private func newValue(_ name: String, shape: [Int], dtype: DType, role: ValueInfo.Role) throws -> ValueID {
        guard names.insert(name).inserted else {
            throw OnboardError.model(item: name, reason: "a value of this name already exists")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw OnboardError.shape(item: name, reason: "negative dimension in \(shape)")
        }
        values.append(ValueInfo(name: name, shape: shape, dtype: dtype, role: role))
        return ValueID(index: values.count - 1)
    }
}
