import Foundation

/// A per-process scratch directory for readers that take a path: each input is written to a file
/// there before the reader runs. Removed at exit (libFuzzer exits through exit() when time is up).
enum FuzzScratch {
    static let directory: String = {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("onboard-fuzz-\(getpid())")
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: FuzzScratch.directory) }
        return directory
    }()

    static func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Writes the bytes to `name` in the scratch directory (replacing it) and returns its path.
    @discardableResult
    static func write(_ name: String, _ bytes: UnsafeRawBufferPointer) -> String {
        let path = path(name)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        var written = 0
        while written < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + written, bytes.count - written)
            precondition(n > 0, "cannot write \(path)")
            written += n
        }
        close(fd)
        return path
    }

    @discardableResult
    static func write(_ name: String, _ data: UnsafePointer<UInt8>, _ size: Int) -> String {
        write(name, UnsafeRawBufferPointer(start: data, count: size))
    }
}
