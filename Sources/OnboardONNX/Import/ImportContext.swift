import OnboardCore
import OnboardGraph

/// What an ONNX value is while importing: known now (folded into the import), or computed by
/// the graph being built.
enum ImportedValue {
    case constant(ConstantValue)
    case runtime(ValueID)
}

/// The graph being built and every ONNX value seen so far. Lowering rules read their inputs
/// through it and emit graph nodes with it.
final class ImportContext {
    let builder = GraphBuilder()
    private(set) var values: [String: ImportedValue] = [:]
    /// Constants already made graph constants, by ONNX name plus the form they were made in.
    private(set) var promoted: [String: ValueID] = [:]
    private var taken: Set<String> = []

    func define(_ name: String, _ value: ImportedValue) { values[name] = value }

    /// A graph input; its ONNX name is kept.
    func input(_ name: String, shape: [Int], dtype: DType) throws {
        taken.insert(name)
        values[name] = .runtime(try builder.input(name, shape: shape, dtype: dtype))
    }

    func isDefined(_ name: String) -> Bool { values[name] != nil }

    /// The value named `name`, which an earlier node or the graph's inputs must define.
    func value(_ name: String, for node: ONNXNode) throws -> ImportedValue {
        guard let value = values[name] else { throw node.fail("reads '\(name)', which no input, initializer or earlier node defines") }
        return value
    }

    func constant(_ name: String?) -> ConstantValue? {
        guard let name, case let .constant(value) = values[name] else { return nil }
        return value
    }

    /// A constant input the node needs to be known at import (a shape, axes, a weight).
    func requireConstant(_ index: Int, of node: ONNXNode, what: String) throws -> ConstantValue {
        guard let name = node.input(index) else { throw node.fail("needs input \(index) (\(what))") }
        guard let value = constant(name) else {
            throw node.fail("input '\(name)' (\(what)) must be known when the model is imported; it is computed at run time")
        }
        return value
    }

    func shape(_ name: String, for node: ONNXNode) throws -> [Int] {
        switch try value(name, for: node) {
        case let .constant(value): return value.shape
        case let .runtime(id): return builder.shape(id)
        }
    }

    /// The rank of a defined value (0 when `name` is nil or undefined).
    func rank(of name: String?) -> Int {
        switch name.flatMap({ values[$0] }) {
        case let .constant(value)?: return value.shape.count
        case let .runtime(id)?: return builder.shape(id).count
        case nil: return 0
        }
    }

    /// Input `index` as a graph value: a constant input becomes a graph constant (once).
    func runtime(_ index: Int, of node: ONNXNode) throws -> ValueID {
        guard let name = node.input(index) else { throw node.fail("needs input \(index)") }
        switch try value(name, for: node) {
        case let .runtime(id): return id
        case let .constant(value): return try graphConstant(value, key: name)
        }
    }

    /// `value` as a graph constant named after `key`; the same key gives the same constant.
    func graphConstant(_ value: ConstantValue, key: String) throws -> ValueID {
        if let id = promoted[key] { return id }
        let id = try builder.constant(uniqueName(key), try value.tensor())
        promoted[key] = id
        return id
    }

    /// Appends a graph node named `name` (made unique).
    func emit(_ op: Op, _ inputs: [ValueID], name: String) throws -> ValueID {
        try builder.node(op, inputs, name: uniqueName(name))
    }

    private func uniqueName(_ name: String) -> String {
        var candidate = name.isEmpty ? "value" : name
        var counter = 1
        while !taken.insert(candidate).inserted {
            counter += 1
            candidate = "\(name)_\(counter)"
        }
        return candidate
    }
}
