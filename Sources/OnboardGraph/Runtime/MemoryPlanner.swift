import OnboardCore

/// Where every non-constant value lives in one arena, from liveness: two values share bytes
/// only when their lifetimes do not overlap. Views (reshape) share their source's bytes and
/// extend its lifetime.
public struct MemoryPlan: Sendable {
    /// Arena byte offset of each input and computed value (views included).
    public let offsets: [ValueID: Int]
    /// Values that are views of a constant, mapped to that constant.
    public let constantViews: [ValueID: ValueID]
    public let arenaBytes: Int
    /// The largest scratch of one node. Each node's scratch is planned inside the arena, so this
    /// is part of `arenaBytes`, not added to it.
    public let scratchBytes: Int
    /// Arena offset of each node's scratch, by node index (nodes that need some).
    public let scratchOffsets: [Int: Int]
    /// Per node: its scratch bytes as planned (part of its `liveBytesPerNode`).
    public let scratchBytesPerNode: [Int]
    public let weightBytes: Int
    /// Per node: bytes of the arena live while it runs (for memory timelines).
    public let liveBytesPerNode: [Int]
}

public enum MemoryPlanner {
    static let alignment = 64

    private struct Buffer {
        let root: ValueID
        let size: Int
        let first: Int
        var last: Int
    }

    /// - Parameter byteCount: bytes a value occupies (default: its f32/declared size; the INT8
    ///   executor stores quantized tensors as one byte per element).
    ///   `pinned`: values written once before the first run (precomputed), live for the whole graph.
    ///   `writtenEarly`: values first written by an earlier node than their own (node index), e.g. by a
    ///   Linear that writes attention heads in place of the permute producing them.
    ///   `aliases`: values written over another value's bytes by an op running in place (output ->
    ///   input); like views, they share the input's buffer and extend its lifetime.
    ///   `scratchBytes`: bytes of scratch per node index, each planned as a buffer live only while
    ///   its node runs, so it takes arena bytes that no value live at that node holds.
    public static func plan(
        _ graph: Graph, byteCount: (ValueID) -> Int = { _ in -1 }, scratchBytes: [Int] = [],
        pinned: Set<ValueID> = [], writtenEarly: [ValueID: Int] = [:], aliases: [ValueID: ValueID] = [:],
        alsoReads: [Int: [ValueID]] = [:]
    ) -> MemoryPlan {
        func size(_ id: ValueID) -> Int {
            let custom = byteCount(id)
            return custom >= 0 ? custom : graph.info(id).byteCount
        }
        var root: [ValueID: ValueID] = [:]
        func rootOf(_ id: ValueID) -> ValueID { root[id] ?? id }
        for node in graph.nodes {
            if node.op.isView {
                root[node.output] = rootOf(node.inputs[0])
            } else if let source = aliases[node.output] {
                root[node.output] = rootOf(source)
            }
        }

        let writtenAt = Dictionary(grouping: writtenEarly.keys.filter { rootOf($0) == $0 }, by: { writtenEarly[$0] ?? -1 })
        var buffers: [ValueID: Buffer] = [:]
        for input in graph.inputs {
            buffers[input] = Buffer(root: input, size: size(input), first: -1, last: -1)
        }
        for (index, node) in graph.nodes.enumerated() {
            for operand in node.inputs + (alsoReads[index] ?? []) {
                extend(&buffers, rootOf(operand), to: index)
            }
            let r = rootOf(node.output)
            if r == node.output, buffers[r] == nil {
                buffers[r] = Buffer(root: r, size: size(r), first: index, last: index)
            } else {
                extend(&buffers, r, to: index)
            }
            for value in writtenAt[index] ?? [] {
                buffers[value] = Buffer(root: value, size: size(value), first: index, last: index)
            }
        }
        for output in graph.outputs { extend(&buffers, rootOf(output), to: graph.nodes.count) }
        for id in pinned {
            guard let buffer = buffers[rootOf(id)] else { continue }
            buffers[buffer.root] = Buffer(root: buffer.root, size: buffer.size, first: -1, last: graph.nodes.count)
        }
        // A node's scratch as a buffer of its own, keyed past the graph's values.
        func scratchKey(_ index: Int) -> ValueID { ValueID(index: graph.values.count + index) }
        for (index, bytes) in scratchBytes.enumerated() where bytes > 0 && index < graph.nodes.count {
            buffers[scratchKey(index)] = Buffer(root: scratchKey(index), size: align(bytes), first: index, last: index)
        }

        // Greedy by size: largest first, lowest offset that clashes with no overlapping buffer.
        var placed: [(buffer: Buffer, offset: Int)] = []
        let order = buffers.values.sorted { ($0.size, -$0.first, $0.root.index) > ($1.size, -$1.first, $1.root.index) }
        var rootOffsets: [ValueID: Int] = [:]
        var arena = 0
        for buffer in order {
            let clashes = placed
                .filter { $0.buffer.first <= buffer.last && buffer.first <= $0.buffer.last }
                .sorted { $0.offset < $1.offset }
            var offset = 0
            for other in clashes {
                if offset + buffer.size <= other.offset { break }
                offset = max(offset, align(other.offset + other.buffer.size))
            }
            placed.append((buffer, offset))
            rootOffsets[buffer.root] = offset
            arena = max(arena, align(offset + buffer.size))
        }

        var offsets: [ValueID: Int] = [:]
        var constantViews: [ValueID: ValueID] = [:]
        for index in graph.values.indices {
            let id = ValueID(index: index)
            let r = rootOf(id)
            if let offset = rootOffsets[r] {
                offsets[id] = offset
            } else if graph.constants[r] != nil, r != id {
                constantViews[id] = r
            }
        }
        let live = graph.nodes.indices.map { index in
            placed.filter { $0.buffer.first <= index && index <= $0.buffer.last }.reduce(0) { $0 + $1.buffer.size }
        }
        var scratchOffsets: [Int: Int] = [:]
        for index in graph.nodes.indices { scratchOffsets[index] = rootOffsets[scratchKey(index)] }
        let scratchPerNode = graph.nodes.indices.map { index in buffers[scratchKey(index)]?.size ?? 0 }
        return MemoryPlan(
            offsets: offsets, constantViews: constantViews, arenaBytes: arena,
            scratchBytes: scratchPerNode.max() ?? 0, scratchOffsets: scratchOffsets, scratchBytesPerNode: scratchPerNode,
            weightBytes: graph.weightBytes, liveBytesPerNode: live)
    }

    private static func extend(_ buffers: inout [ValueID: Buffer], _ id: ValueID, to index: Int) {
        guard var buffer = buffers[id] else { return }
        buffer.last = max(buffer.last, index)
        buffers[id] = buffer
    }

    static func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}
