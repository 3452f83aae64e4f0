import Foundation

/// Values made once per key and shared between threads (the lock is held while a value is made,
/// so each is made once).
public final class Memo<Key: Hashable, Value>: @unchecked Sendable {
    private var values: [Key: Value] = [:]
    private let lock = NSLock()

    public init() {}

    public func value(_ key: Key, make: () throws -> Value) rethrows -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let made = values[key] { return made }
        let made = try make()
        values[key] = made
        return made
    }
}
