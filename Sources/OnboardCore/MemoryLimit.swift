import Foundation

/// Sizes computed from files and options, checked before anything is allocated: an element count
/// that overflows `Int`, or a buffer larger than this machine's physical memory, is an error that
/// says what was asked for instead of a trap in the allocator.
public enum MemoryLimit {
    /// This machine's physical memory in bytes: no single buffer may exceed it.
    public static var physicalBytes: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// The product of `factors`, nil if it overflows `Int` or a factor is negative.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            result = next
        }
        return result
    }

    /// Throws unless a tensor of `shape` with `bytesPerElement`-byte elements can be allocated; the
    /// error is `.format(path, item, ...)` when `path` is given, else `.shape(item, ...)`.
    public static func requireAllocatable(_ shape: [Int], bytesPerElement: Int = 4, item: String, path: String? = nil) throws {
        func fail(_ reason: String) -> OnboardError {
            if let path { return .format(path: path, item: item, reason: reason) }
            return .shape(item: item, reason: reason)
        }
        guard let count = product(shape), let bytes = product([count, bytesPerElement]) else {
            throw fail("a tensor of shape \(shape) has more elements than can be addressed")
        }
        guard bytes <= physicalBytes else {
            throw fail("a tensor of shape \(shape) needs \(bytes) bytes, more than this machine's \(physicalBytes) bytes of memory")
        }
    }
}
