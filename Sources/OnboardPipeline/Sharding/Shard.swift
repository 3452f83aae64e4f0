import OnboardCore

/// One of `count` slices of a run's samples (`--shard I/N`, 0-based): the contiguous block
/// [I·n/N, (I+1)·n/N) of the samples in the order a single run takes them. The blocks of all N
/// shards cover every sample once, and depend only on n and N.
public struct Shard: Codable, Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw OnboardError.invalidArgument("--shard: the shard count must be >= 1 (got \(count))") }
        guard (0..<count).contains(index) else {
            throw OnboardError.invalidArgument("--shard: the index must be in 0..<\(count) (got \(index)); shards count from 0")
        }
        (self.index, self.count) = (index, count)
    }

    /// Parses "I/N".
    public init(parsing text: String) throws {
        let fields = text.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 2, let index = Int(fields[0]), let count = Int(fields[1]) else {
            throw OnboardError.invalidArgument("--shard: expected I/N (e.g. 0/4), got '\(text)'")
        }
        try self.init(index: index, count: count)
    }

    /// Decoded through `init(index:count:)`, so a part file cannot hold an impossible shard.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(index: try c.decode(Int.self, forKey: .index), count: try c.decode(Int.self, forKey: .count))
    }

    public var description: String { "\(index)/\(count)" }

    /// The positions of this shard's block among `total` items.
    public func range(of total: Int) -> Range<Int> {
        // total * index cannot overflow for any sample count an array holds times a shard count
        // that fits in memory; multipliedReportingOverflow keeps it honest anyway.
        func bound(_ i: Int) -> Int {
            let (product, overflow) = total.multipliedReportingOverflow(by: i)
            return overflow ? Int((Double(total) * Double(i) / Double(count)).rounded(.down)) : product / count
        }
        return bound(index)..<bound(index + 1)
    }

    public func slice<T>(_ items: [T]) -> [T] { Array(items[range(of: items.count)]) }
}
