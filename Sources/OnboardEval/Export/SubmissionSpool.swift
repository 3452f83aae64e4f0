#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import OnboardCore

/// A submission written one sample at a time without keeping its boxes: each sample's JSON array
/// goes to a temporary file as it comes, and `write` puts the results file together in
/// `ResultsWriter`'s token order, the same bytes. A long detection run holds a few bytes per sample
/// instead of every box. The temporary file is created beside the results (on the disk the user
/// chose for them, not a `/tmp` that may be memory) and unlinked at once: only the open handle
/// keeps it, so no run, however it ends, leaves it behind.
public final class SubmissionSpool {
    /// The results file, also named by errors.
    public let path: String
    private let handle: UnsafeMutablePointer<FILE>
    private var spans: [String: Span] = [:]
    private var end = 0

    private struct Span {
        let offset: Int, length: Int, boxes: Int
    }

    public init(path: String) throws {
        let temporary = Temporaries.sibling(of: try OutputPath.file(path))
        guard let handle = fopen(temporary, "w+bx") else {
            throw OnboardError.io(path: path, reason: "cannot create a temporary file beside it: \(String(cString: strerror(errno)))")
        }
        unlink(temporary)
        self.path = path
        self.handle = handle
    }

    deinit { fclose(handle) }

    /// Samples appended (a token appended again replaces its boxes).
    public var sampleCount: Int { spans.count }

    public var boxCount: Int { spans.values.reduce(0) { $0 + $1.boxes } }

    public func append(_ token: String, _ boxes: [SubmissionBox]) throws {
        let bytes = try ResultsWriter.sampleArray(boxes, path: path)
        guard fseeko(handle, off_t(end), SEEK_SET) == 0, fwrite(bytes, 1, bytes.count, handle) == bytes.count else {
            throw OnboardError.io(path: path, reason: "cannot write the temporary results: \(String(cString: strerror(errno)))")
        }
        spans[token] = Span(offset: end, length: bytes.count, boxes: boxes.count)
        end += bytes.count
    }

    /// Writes the results file atomically.
    public func write(meta: [String: Bool] = ResultsWriter.cameraOnlyMeta) throws {
        try AtomicFile(path: path).write { sink in
            var out = SubmissionText()
            out.header(meta: meta)
            for (i, (token, span)) in spans.sorted(by: { $0.key < $1.key }).enumerated() {
                out.sampleKey(token, first: i == 0)
                try sink.append(out.take())
                try sink.append(read(span))
            }
            out.append("}}")
            try sink.append(out.take())
        }
    }

    private func read(_ span: Span) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: span.length)
        guard fseeko(handle, off_t(span.offset), SEEK_SET) == 0, fread(&bytes, 1, span.length, handle) == span.length else {
            throw OnboardError.io(path: path, reason: "cannot read the temporary results back: \(String(cString: strerror(errno)))")
        }
        return bytes
    }
}
