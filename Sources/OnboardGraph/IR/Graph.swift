import OnboardCore

/// Identifies a value (tensor) of a graph.
public struct ValueID: Hashable, Comparable, Sendable {
    public let index: Int
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
}

/// A value's static description.
public struct ValueInfo: Sendable, Equatable {
    public enum Role: Sendable, Equatable { case input, constant, computed }
    public let name: String
    public let shape: [Int]
    public let dtype: DType
    public let role: Role

    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { count * dtype.byteSize }
}

/// One operation: reads `inputs`, writes `output`.
public struct Node: Sendable, Equatable {
    public let name: String
    public let op: Op
    public let inputs: [ValueID]
    public let output: ValueID
}

/// A static graph: every shape known, nodes in execution order.
public struct Graph: Sendable {
    public let values: [ValueInfo]
    public let nodes: [Node]
    public let inputs: [ValueID]
    public let outputs: [ValueID]
    public let constants: [ValueID: Tensor]
    /// Scales of int8 constants (quantized weights): one per tensor or per output channel.
    public let weightScales: [ValueID: [Float]]

    public func info(_ id: ValueID) -> ValueInfo { values[id.index] }

    public func value(named name: String) -> ValueID? {
        values.firstIndex { $0.name == name }.map(ValueID.init)
    }

    /// The tensor given for input `id`: present, with the input's dtype and shape, or an error
    /// naming it.
    public func inputTensor(_ id: ValueID, in inputs: [String: Tensor]) throws -> Tensor {
        let info = info(id)
        guard let tensor = inputs[info.name] else {
            throw OnboardError.invalidArgument("missing input '\(info.name)' (expected \(info.dtype) \(info.shape))")
        }
        guard tensor.shape == info.shape, tensor.dtype == info.dtype else {
            throw OnboardError.shape(item: "input '\(info.name)'",
                                     reason: "expected \(info.dtype) \(info.shape), got \(tensor.dtype) \(tensor.shape)")
        }
        return tensor
    }

    /// A constant as f32 (int8 weights dequantized with their scales).
    public func floatConstant(_ id: ValueID) -> Tensor? {
        guard let tensor = constants[id] else { return nil }
        guard tensor.dtype == .i8, let scales = weightScales[id] else { return tensor }
        return QuantizedWeight(codes: tensor, scales: scales).dequantized()
    }

    /// Bytes of all constants (weights), as held in memory.
    public var weightBytes: Int { constants.values.reduce(0) { $0 + $1.byteCount } }

    /// Indexes of the nodes reading each value, by value index (a node reading a value twice is listed twice).
    public var readers: [[Int]] {
        var readers = [[Int]](repeating: [], count: values.count)
        for (index, node) in nodes.enumerated() { for input in node.inputs { readers[input.index].append(index) } }
        return readers
    }

    /// Index of the node producing each computed value.
    public var producers: [ValueID: Int] {
        Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.output, $0) })
    }
}
