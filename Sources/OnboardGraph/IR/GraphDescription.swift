import OnboardCore

/// A graph as a graph bundle stores it in `config.json` (docs/bundle-format.md, "graph"): inputs
/// with fixed shapes, the constants it reads (their values live in `model.safetensors` under the
/// same names), nodes in execution order (each node's output is the value named like the node),
/// and the outputs. Rebuilding it through `GraphBuilder` checks every shape again.
public struct GraphDescription: Codable, Sendable, Equatable {
    /// The format this code writes; `version` of a stored description must not be newer.
    public static let currentVersion = 1

    public struct Value: Codable, Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let dtype: DType

        public init(name: String, shape: [Int], dtype: DType) {
            self.name = name
            self.shape = shape
            self.dtype = dtype
        }
    }

    public struct Step: Codable, Sendable, Equatable {
        public let name: String
        public let op: Op
        public let inputs: [String]

        public init(name: String, op: Op, inputs: [String]) {
            self.name = name
            self.op = op
            self.inputs = inputs
        }
    }

    public let version: Int
    public let inputs: [Value]
    public let constants: [Value]
    public let nodes: [Step]
    public let outputs: [String]

    public init(version: Int = currentVersion, inputs: [Value], constants: [Value], nodes: [Step], outputs: [String]) {
        self.version = version
        self.inputs = inputs
        self.constants = constants
        self.nodes = nodes
        self.outputs = outputs
    }

    /// The description of `graph` (its constants' values are not part of it).
    public init(_ graph: Graph) {
        func value(_ id: ValueID) -> Value {
            let info = graph.info(id)
            return Value(name: info.name, shape: info.shape, dtype: info.dtype)
        }
        version = Self.currentVersion
        inputs = graph.inputs.map(value)
        constants = graph.constants.keys.sorted().map(value)
        nodes = graph.nodes.map { node in Step(name: node.name, op: node.op, inputs: node.inputs.map { graph.info($0).name }) }
        outputs = graph.outputs.map { graph.info($0).name }
    }

    /// The graph, with each constant's tensor (and an int8 weight's scales) from
    /// `constant(name, shape)`; a node that reads a name nothing defined yet is an error naming both.
    public func build(constant: (String, [Int]) throws -> (Tensor, scales: [Float]?)) throws -> Graph {
        guard version >= 1, version <= Self.currentVersion else {
            throw OnboardError.model(item: "graph", reason: "format version \(version); this build reads 1...\(Self.currentVersion)")
        }
        let g = GraphBuilder()
        var defined: [String: ValueID] = [:]
        for input in inputs { defined[input.name] = try g.input(input.name, shape: input.shape, dtype: input.dtype) }
        for entry in constants {
            let (tensor, scales) = try constant(entry.name, entry.shape)
            defined[entry.name] = try g.constant(entry.name, tensor, scales: scales)
        }
        for step in nodes {
            let operands = try step.inputs.map { name in
                guard let id = defined[name] else {
                    throw OnboardError.model(item: "node '\(step.name)'", reason: "reads '\(name)', which no input, constant or earlier node defines")
                }
                return id
            }
            defined[step.name] = try g.node(step.op, operands, name: step.name)
        }
        for name in outputs {
            guard let id = defined[name] else { throw OnboardError.model(item: "output '\(name)'", reason: "not a value of the graph") }
            g.markOutput(id)
        }
        return try g.build()
    }
}
