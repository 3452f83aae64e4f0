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
    /// The block's size when it was allocated in a size class of `FreedBlocks`.
    private let sizeClass: Int?

    /// Allocates `byteCount` zeroed bytes.
    public init(byteCount: Int) {
        let size = max(byteCount, 1)
        let sizeClass = FreedBlocks.shared.sizeClass(of: size)
        var raw = sizeClass.flatMap { FreedBlocks.shared.take(sizeClass: $0) }
        if raw == nil {
            let status = posix_memalign(&raw, AlignedBuffer.alignment, sizeClass ?? ((size + 63) & ~63))
            if status != 0 { raw = nil }
        }
        guard let raw else {
            // Running out of memory is not a user-input condition we can recover from.
            preconditionFailure("out of memory allocating \(byteCount) bytes")
        }
        memset(raw, 0, size)
        self.pointer = raw
        self.byteCount = byteCount
        self.owner = nil
        self.ownsMemory = true
        self.sizeClass = sizeClass
    }

    /// Runs `body` with large blocks (128 KiB and more) that buffers free kept, up to `limit` bytes in
    /// all (a quarter of physical memory by default), for buffers allocated later of the same size
    /// class; they are freed when the outermost such call returns. For work that allocates and
    /// frees many large buffers of similar sizes (see `FreedBlocks`).
    public static func reusingFreedBlocks<R>(limit: Int = MemoryLimit.physicalBytes / 4, _ body: () throws -> R) rethrows -> R {
        FreedBlocks.shared.open(limit: limit)
        defer { FreedBlocks.shared.close() }
        return try body()
    }

    /// Wraps memory that `owner` keeps alive.
    public init(borrowing pointer: UnsafeMutableRawPointer, byteCount: Int, owner: AnyObject) {
        self.pointer = pointer
        self.byteCount = byteCount
        self.owner = owner
        self.ownsMemory = false
        self.sizeClass = nil
    }

    /// For memory borrowed from a mapped file: hands back the pages of `byteOffset ..< byteOffset +
    /// count` that lie wholly inside it (`MappedFile.releasePages`); nothing for allocated memory.
    public func releaseMappedPages(byteOffset: Int, count: Int) {
        guard let file = owner as? MappedFile, byteOffset >= 0, count > 0, byteOffset + count <= byteCount else { return }
        file.releasePages(pointer + byteOffset, count: count)
    }

    deinit {
        guard ownsMemory else { return }
        if let sizeClass, FreedBlocks.shared.keep(pointer, sizeClass: sizeClass) { return }
        free(pointer)
    }
}
