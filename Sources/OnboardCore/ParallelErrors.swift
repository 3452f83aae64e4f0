import Foundation

/// Per-item error slots written from parallel workers (each index by one worker only); the
/// lowest failing index is reported, so the error does not depend on scheduling.
public final class ParallelErrors: @unchecked Sendable {
    private var slots: [Error?]
    private let lock = NSLock()

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    public func set(_ index: Int, _ error: Error) {
        lock.lock(); slots[index] = error; lock.unlock()
    }

    /// The failing item with the lowest index, if any.
    public var first: (index: Int, error: Error)? {
        lock.lock(); defer { lock.unlock() }
        guard let index = slots.firstIndex(where: { $0 != nil }), let error = slots[index] else { return nil }
        return (index, error)
    }
}
