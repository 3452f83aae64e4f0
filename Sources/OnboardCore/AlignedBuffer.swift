#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A block of raw memory, 64-byte aligned, owned (freed on deinit) or borrowed from an owner
/// that outlives it (a memory-mapped file).
public final class AlignedBuffer: @unchecked Sendable {
    public static let alignment = 64

    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int
    private let owner: AnyObject?
    private let ownsMemory: Bool

    /// Allocates `byteCount` zeroed bytes.
    public init(byteCount: Int) {
        var raw: UnsafeMutableRawPointer?
        let size = max(byteCount, 1)
        let status = posix_memalign(&raw, AlignedBuffer.alignment, (size + 63) & ~63)
        guard status == 0, let raw else {
            // Running out of memory is not a user-input condition we can recover from.
            preconditionFailure("out of memory allocating \(byteCount) bytes")
        }
        memset(raw, 0, size)
        self.pointer = raw
        self.byteCount = byteCount
        self.owner = nil
        self.ownsMemory = true
    }

    /// Wraps memory that `owner` keeps alive.
    public init(borrowing pointer: UnsafeMutableRawPointer, byteCount: Int, owner: AnyObject) {
        self.pointer = pointer
        self.byteCount = byteCount
        self.owner = owner
        self.ownsMemory = false
    }

    /// For memory borrowed from a mapped file: hands back the pages of `byteOffset ..< byteOffset +
    /// count` that lie wholly inside it (`MappedFile.releasePages`); nothing for allocated memory.
    public func releaseMappedPages(byteOffset: Int, count: Int) {
        guard let file = owner as? MappedFile, byteOffset >= 0, count > 0, byteOffset + count <= byteCount else { return }
        file.releasePages(pointer + byteOffset, count: count)
    }

    deinit {
        if ownsMemory { free(pointer) }
    }
}
