#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Reading a file a user named: only regular files are read, so a FIFO, a device or a directory is
/// an error instead of a hang or an endless read.
public enum InputFile {
    /// The whole file; `what` names it in errors ("board file", "recipe").
    public static func read(_ path: String, what: String = "file") throws -> Data {
        let fd = try openRegular(path, what: what)
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw OnboardError.io(path: path, reason: "cannot read \(what): \(error.localizedDescription)")
        }
    }

    /// An open descriptor on `path`, which must be a regular file; the caller closes it.
    /// Opened non-blocking so that a FIFO without a writer does not block the open itself.
    public static func openRegular(_ path: String, what: String = "file") throws -> Int32 {
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            throw OnboardError.io(path: path, reason: "cannot read \(what): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw OnboardError.io(path: path, reason: "cannot read \(what): \(reason)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw OnboardError.io(path: path, reason: "\(what) is \(kind(info.st_mode)), not a regular file")
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return fd
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }
}
