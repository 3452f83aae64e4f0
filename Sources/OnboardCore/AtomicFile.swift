#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file through a temporary sibling (`Temporaries`) that is renamed over the target only
/// when complete, so a failed or interrupted write never leaves half a file or a temporary.
public struct AtomicFile {
    public let path: String

    public init(path: String) { self.path = path }

    /// Calls `body` with a sink for the bytes, then renames into place; removes the temporary on error.
    /// A link at `path` is followed (`OutputPath.file`); a directory, device or FIFO is refused.
    public func write(_ body: (inout Sink) throws -> Void) throws {
        let destination = try OutputPath.file(path)
        if !Temporaries.isStaged(destination) { Temporaries.removeStale(beside: destination) }
        let temporary = Temporaries.sibling(of: destination)
        let registration = Temporaries.register(temporary)
        defer { Temporaries.release(registration) }
        guard let handle = fopen(temporary, "wbx") else {
            throw OnboardError.io(path: path, reason: "cannot create: \(String(cString: strerror(errno)))")
        }
        var sink = Sink(handle: handle, path: path)
        var open = true
        do {
            try body(&sink)
            let flushed = fflush(handle) == 0
            open = false
            guard fclose(handle) == 0, flushed else {
                throw OnboardError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
            }
            try Temporaries.commit {
                guard rename(temporary, destination) == 0 else {
                    throw OnboardError.io(path: path, reason: "cannot rename into place: \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            if open { fclose(handle) }
            unlink(temporary)
            throw error
        }
    }

    public func write(bytes: [UInt8]) throws {
        try write { sink in try sink.append(bytes) }
    }

    public func write(string: String) throws {
        try write(bytes: Array(string.utf8))
    }

    /// Where the bytes go.
    public struct Sink {
        fileprivate let handle: UnsafeMutablePointer<FILE>
        fileprivate let path: String

        public mutating func append(_ raw: UnsafeRawBufferPointer) throws {
            guard raw.count > 0 else { return }
            guard fwrite(raw.baseAddress, 1, raw.count, handle) == raw.count else {
                throw OnboardError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
            }
        }

        public mutating func append(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try append($0) }
        }
    }
}
