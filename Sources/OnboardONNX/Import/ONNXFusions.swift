/// Rewrites of the ONNX node list, before lowering, into ops the graph runs whole: the exact GELU
/// that exporters spell out with `Erf`, the LayerNorm of opsets before 17, and `MatMul` + bias `Add`
/// (a linear layer on a tensor of rank 3 or more). A pattern is rewritten only when its
/// intermediate values feed nothing else and are not graph outputs.
struct ONNXFusions {
    private var nodes: [Onnx_NodeProto?]
    /// Values known before lowering: initializers and `Constant` outputs.
    private let literal: (String) -> ConstantValue?
    private let outputs: Set<String>
    /// Values a QDQ model quantizes (`QDQStripping`): a linear layer whose product is one stays
    /// `MatMul` and `Add`, a GELU with one among its steps stays its `Erf` form, so that each value
    /// is rounded where the model rounds it.
    private let quantized: Set<String>
    private var producer: [String: Int] = [:]
    private var consumers: [String: [Int]] = [:]

    init(nodes: [Onnx_NodeProto], graphOutputs: Set<String>, quantized: Set<String> = [], literal: @escaping (String) -> ConstantValue?) {
        self.nodes = nodes
        self.literal = literal
        outputs = graphOutputs
        self.quantized = quantized
        for (index, node) in nodes.enumerated() {
            for output in node.output { producer[output] = index }
            for input in node.input where !input.isEmpty { consumers[input, default: []].append(index) }
        }
    }

    /// The rewritten list and how many patterns of each kind were fused.
    mutating func apply() -> (nodes: [Onnx_NodeProto], fused: [String: Int]) {
        var fused: [String: Int] = [:]
        for index in nodes.indices {
            guard let node = nodes[index] else { continue }
            let kind: String?
            switch node.opType {
            case "Erf": kind = fuseGelu(erf: index) ? "gelu" : nil
            case "Sqrt": kind = fuseLayerNorm(sqrt: index) ? "layer_norm" : nil
            case "MatMul": kind = fuseLinear(matMul: index) ? "linear" : nil
            default: kind = nil
            }
            if let kind { fused[kind, default: 0] += 1 }
        }
        return (nodes.compactMap { $0 }, fused)
    }

    // MARK: - Patterns

    /// `Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)`, or with `Mul(x, 0.5)` as the left factor.
    private mutating func fuseGelu(erf: Int) -> Bool {
        guard let (divide, x) = scaledInput(of: erf), let add = soleConsumer(of: erf, opType: "Add"),
              isLiteral(otherInput(of: add, than: output(erf)), 1),
              let product = soleConsumer(of: add, opType: "Mul") else { return false }
        let factor = otherInput(of: product, than: output(add))
        var removed = [divide, erf, add, product], last = product
        if factor == x, let half = soleConsumer(of: product, opType: "Mul"), isLiteral(otherInput(of: half, than: output(product)), 0.5) {
            removed.append(half)
            last = half
        } else if let halving = producer[factor], nodes[halving]?.opType == "Mul", isSole(halving, reading: factor),
                  Set(nodes[halving]?.input ?? []).contains(x), isLiteral(otherInput(of: halving, than: x), 0.5) {
            removed.append(halving)
        } else {
            return false
        }
        // A QDQ model that rounds the steps of its GELU runs them one by one (`Erf` has a graph op).
        guard removed.allSatisfy({ $0 == last || !quantized.contains(output($0)) }) else { return false }
        return replace(removed, at: last, with: node("Gelu", inputs: [x], output: output(last), from: erf))
    }

    /// `Div(x, √2)` or `Mul(x, 1/√2)` feeding only the Erf: that node and x.
    private func scaledInput(of erf: Int) -> (Int, String)? {
        guard let input = nodes[erf]?.input.first, let index = producer[input], let scale = nodes[index],
              isSole(index, reading: input), scale.input.count == 2 else { return nil }
        let constant = literal(scale.input[1]).flatMap { $0.count == 1 ? $0.floats[0] : nil }
        switch (scale.opType, constant) {
        case let ("Div", c?) where abs(c - Float(2).squareRoot()) < 1e-4: return (index, scale.input[0])
        case let ("Mul", c?) where abs(c - Float(0.5).squareRoot()) < 1e-4: return (index, scale.input[0])
        default: return nil
        }
    }

    /// `Add(Mul(Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))), w), b)` with `d = Sub(x, ReduceMean(x))`,
    /// both means over the last axis.
    private mutating func fuseLayerNorm(sqrt: Int) -> Bool {
        guard let input = nodes[sqrt]?.input.first, let addEps = producer[input], nodes[addEps]?.opType == "Add",
              let (variance, epsilon) = operandAndScalar(addEps), nodes[variance]?.opType == "ReduceMean", lastAxisMean(variance),
              let square = producer[nodes[variance]?.input.first ?? ""], nodes[square]?.opType == "Pow",
              isLiteral(nodes[square]?.input.last ?? "", 2),
              let centered = producer[nodes[square]?.input.first ?? ""], nodes[centered]?.opType == "Sub",
              let mean = producer[nodes[centered]?.input.last ?? ""], nodes[mean]?.opType == "ReduceMean", lastAxisMean(mean),
              let x = nodes[centered]?.input.first, nodes[mean]?.input.first == x,
              let divide = soleConsumer(of: sqrt, opType: "Div"), nodes[divide]?.input.first == output(centered),
              let scale = soleConsumer(of: divide, opType: "Mul"), let shift = soleConsumer(of: scale, opType: "Add"),
              Set(consumers[output(centered)] ?? []) == [square, divide],
              isSole(mean, reading: output(mean)), isSole(square, reading: output(square)),
              isSole(variance, reading: output(variance)), isSole(addEps, reading: output(addEps)) else { return false }
        let weight = otherInput(of: scale, than: output(divide)), bias = otherInput(of: shift, than: output(scale))
        guard literal(weight)?.shape.count == 1, literal(bias)?.shape.count == 1 else { return false }
        var fused = node("LayerNormalization", inputs: [x, weight, bias], output: output(shift), from: sqrt)
        var attribute = Onnx_AttributeProto()
        attribute.name = "epsilon"
        attribute.type = .float
        attribute.f = epsilon
        fused.attribute = [attribute]
        return replace([mean, centered, square, variance, addEps, sqrt, divide, scale, shift], at: shift, with: fused)
    }

    /// `Add(MatMul(x, W), b)` with W [K, N] and b [N] known.
    private mutating func fuseLinear(matMul: Int) -> Bool {
        guard let product = nodes[matMul], product.input.count == 2, literal(product.input[1])?.shape.count == 2,
              !quantized.contains(output(matMul)), let add = soleConsumer(of: matMul, opType: "Add") else { return false }
        let bias = otherInput(of: add, than: output(matMul))
        guard let n = literal(product.input[1])?.shape.last, literal(bias)?.shape == [n] else { return false }
        var fused = node("Linear", inputs: [product.input[0], product.input[1], bias], output: output(add), from: matMul)
        fused.domain = ONNXOpTable.fusedDomain
        return replace([matMul, add], at: add, with: fused)
    }

    // MARK: - Helpers

    private func output(_ index: Int) -> String { nodes[index]?.output.first ?? "" }

    /// Whether node `index`'s output `name` is read by exactly one node and is no graph output.
    private func isSole(_ index: Int, reading name: String) -> Bool {
        !outputs.contains(name) && (consumers[name]?.count ?? 0) == 1 && (nodes[index]?.output.count ?? 0) == 1
    }

    /// The only node reading node `index`'s output, when it is an `opType` with two inputs.
    private func soleConsumer(of index: Int, opType: String) -> Int? {
        let name = output(index)
        guard isSole(index, reading: name), let reader = consumers[name]?.first, let node = nodes[reader],
              node.opType == opType, node.input.count == 2 else { return nil }
        return reader
    }

    /// The input of a two-input node that is not `name`.
    private func otherInput(of index: Int, than name: String) -> String {
        guard let inputs = nodes[index]?.input, inputs.count == 2 else { return "" }
        return inputs[0] == name ? inputs[1] : inputs[0]
    }

    private func isLiteral(_ name: String, _ value: Float) -> Bool {
        guard let constant = literal(name), constant.count == 1 else { return false }
        return abs(constant.floats[0] - value) <= 1e-6 * max(1, abs(value))
    }

    /// The producer of a two-input node's non-scalar operand, and the scalar.
    private func operandAndScalar(_ index: Int) -> (Int, Float)? {
        guard let inputs = nodes[index]?.input, inputs.count == 2 else { return nil }
        for (a, b) in [(inputs[0], inputs[1]), (inputs[1], inputs[0])] {
            if let scalar = literal(b), scalar.count == 1, let source = producer[a] { return (source, scalar.floats[0]) }
        }
        return nil
    }

    /// A `ReduceMean` over axis -1 only, keeping it (axes an attribute, or an input from opset 18).
    private func lastAxisMean(_ index: Int) -> Bool {
        guard let node = nodes[index] else { return false }
        let keep = node.attribute.first { $0.name == "keepdims" }.map { $0.i != 0 } ?? true
        let axes = node.attribute.first { $0.name == "axes" }.map(\.ints) ?? (node.input.count > 1 ? literal(node.input[1])?.integers : nil)
        return keep && axes == [-1]
    }

    private func node(_ opType: String, inputs: [String], output: String, from original: Int) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = (nodes[original]?.name ?? "") + "/fused"
        node.input = inputs
        node.output = [output]
        return node
    }

    /// Removes `indices` and puts `replacement` at `position`.
    private mutating func replace(_ indices: [Int], at position: Int, with replacement: Onnx_NodeProto) -> Bool {
        for index in indices { nodes[index] = nil }
        nodes[position] = replacement
        return true
    }
}
