import Foundation

/// Large blocks that `AlignedBuffer`s free while `AlignedBuffer.reusingFreedBlocks` runs, kept for
/// the next allocation of their size class instead of going back to the system.
///
/// Work that builds and drops many executors of similar size (a sentence encoder has one per
/// sequence length) otherwise gets fresh pages from the system for each executor's arena, scratch
/// and packed weights and faults every one of them in again. glibc maps large blocks (over 32 MiB
/// at the most) one by one and unmaps them on free, so its own settings cannot keep them.
final class FreedBlocks: @unchecked Sendable {
    static let shared = FreedBlocks()
    /// glibc's first mmap threshold: smaller blocks come from its heap, which reuses them.
    static let smallestKept = 128 << 10

    private let lock = NSLock()
    private var scopes = 0
    private var limit = 0
    private var keptBytes = 0
    /// Free blocks by size class (a power of two, in bytes).
    private var blocks: [Int: [UnsafeMutableRawPointer]] = [:]

    /// The bytes to allocate for a request of `byteCount` while blocks are kept: its size class,
    /// so that a block freed now serves any later request of that class; nil outside a scope.
    func sizeClass(of byteCount: Int) -> Int? {
        guard byteCount >= Self.smallestKept, byteCount <= Int.max >> 2 else { return nil }
        return lock.withLock {
            guard scopes > 0 else { return nil }
            var size = Self.smallestKept
            while size < byteCount { size <<= 1 }
            return size
        }
    }

    /// A kept block of `sizeClass` bytes, if there is one (its contents are what its last user left).
    func take(sizeClass: Int) -> UnsafeMutableRawPointer? {
        lock.withLock {
            guard let block = blocks[sizeClass]?.popLast() else { return nil }
            keptBytes -= sizeClass
            return block
        }
    }

    /// Keeps `block` for reuse; false when no scope is open or the limit is reached (the caller frees it).
    func keep(_ block: UnsafeMutableRawPointer, sizeClass: Int) -> Bool {
        lock.withLock {
            guard scopes > 0, keptBytes + sizeClass <= limit else { return false }
            blocks[sizeClass, default: []].append(block)
            keptBytes += sizeClass
            return true
        }
    }

    func open(limit bytes: Int) {
        lock.withLock {
            scopes += 1
            limit = max(limit, bytes)
        }
    }

    /// Closes a scope; the last one frees every kept block.
    func close() {
        let freed: [UnsafeMutableRawPointer] = lock.withLock {
            scopes -= 1
            guard scopes == 0 else { return [] }
            defer { (blocks, keptBytes, limit) = ([:], 0, 0) }
            return blocks.values.flatMap { $0 }
        }
        for block in freed { free(block) }
    }

    var keptByteCount: Int { lock.withLock { keptBytes } }
}
