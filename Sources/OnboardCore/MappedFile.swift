#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped copy-on-write: readable, and writable in memory without touching the file.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let pointer: UnsafeMutableRawPointer?
    public let size: Int

    public init(path: String) throws {
        self.path = path
        let fd = try InputFile.openRegular(path)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OnboardError.io(path: path, reason: String(cString: strerror(errno))) }
        size = Int(info.st_size)
        if size == 0 {
            pointer = nil
            return
        }
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw OnboardError.io(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
        }
        pointer = mapped
    }

    /// Hands back the resident pages wholly inside `start ..< start + count` (part of this mapping)
    /// once their bytes have been copied where they are used (weights packed for a kernel). A hint
    /// (Linux's MADV_PAGEOUT): clean pages are dropped and read from the file again if touched; a
    /// page written in memory, or one of a file not yet written back, is kept; elsewhere nothing
    /// happens.
    public func releasePages(_ start: UnsafeRawPointer, count: Int) {
        #if os(Linux)
        guard let pointer, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = Int(bitPattern: UnsafeRawPointer(pointer))
        let from = max(Int(bitPattern: start), base), to = min(Int(bitPattern: start) + count, base + size)
        let first = (from + page - 1) / page * page, last = to / page * page
        guard page > 0, first < last, let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(address, last - first, 21)  // MADV_PAGEOUT (Linux 5.4); older kernels refuse it harmlessly
        #endif
    }

    deinit {
        if let pointer { munmap(pointer, size) }
    }
}
