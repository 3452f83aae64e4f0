import Dispatch

/// Per-node timing and traffic, filled by an executor when attached.
public final class Profiler: @unchecked Sendable {
    public struct Record: Sendable {
        public let node: String
        public let kind: String
        public var seconds: Double
        /// Bytes read from inputs plus bytes written to the output.
        public let bytes: Int
        public var calls: Int
    }

    public private(set) var records: [Record] = []
    private var indexByNode: [String: Int] = [:]

    public init() {}

    func add(node: Node, seconds: Double, bytes: Int) {
        if let index = indexByNode[node.name] {
            records[index].seconds += seconds
            records[index].calls += 1
        } else {
            indexByNode[node.name] = records.count
            records.append(Record(node: node.name, kind: node.op.kind, seconds: seconds, bytes: bytes, calls: 1))
        }
    }

    public func reset() {
        records = []
        indexByNode = [:]
    }

    /// Total seconds by op kind, largest first.
    public var secondsByKind: [(kind: String, seconds: Double)] {
        Dictionary(grouping: records, by: \.kind)
            .map { ($0.key, $0.value.reduce(0) { $0 + $1.seconds }) }
            .sorted { $0.1 > $1.1 }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}
