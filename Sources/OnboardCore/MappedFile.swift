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

    deinit {
        if let pointer { munmap(pointer, size) }
    }
}
