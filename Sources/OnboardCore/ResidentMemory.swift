#if canImport(Glibc)
import Glibc
#endif

/// Where this process's resident memory is, by kind of mapping, read from /proc/self/smaps (Linux;
/// nil elsewhere). A snapshot of the current resident set, not of the peak.
public struct ResidentMemory: Encodable, Equatable, Sendable {
    /// File-backed code and data of the executable and the shared libraries.
    public var binaryBytes = 0
    /// The malloc heap and the anonymous mappings that are not thread stacks (large allocations, arenas).
    public var heapBytes = 0
    /// The main stack and the threads' stacks (anonymous mappings right above a guard page).
    public var stackBytes = 0
    /// Mapped weight files (`*.safetensors`).
    public var mappedWeightsBytes = 0
    /// Everything else (vDSO, other mapped files).
    public var otherBytes = 0

    public var totalBytes: Int { binaryBytes + heapBytes + stackBytes + mappedWeightsBytes + otherBytes }

    enum CodingKeys: String, CodingKey {
        case binaryBytes = "binary_bytes", heapBytes = "heap_bytes", stackBytes = "stack_bytes"
        case mappedWeightsBytes = "mapped_weights_bytes", otherBytes = "other_bytes", totalBytes = "total_bytes"
    }

    /// The five kinds and their sum (`total_bytes`).
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(binaryBytes, forKey: .binaryBytes)
        try container.encode(heapBytes, forKey: .heapBytes)
        try container.encode(stackBytes, forKey: .stackBytes)
        try container.encode(mappedWeightsBytes, forKey: .mappedWeightsBytes)
        try container.encode(otherBytes, forKey: .otherBytes)
        try container.encode(totalBytes, forKey: .totalBytes)
    }

    public init() {}

    /// The current breakdown, or nil where /proc/self/smaps cannot be read.
    public static func current() -> ResidentMemory? {
        guard let lines = smapsLines() else { return nil }
        return parse(smaps: lines, executable: executablePath())
    }

    /// The lines of /proc/self/smaps (nil where it cannot be read).
    static func smapsLines() -> [String]? {
        #if os(Linux)
        guard let file = fopen("/proc/self/smaps", "r") else { return nil }
        defer { fclose(file) }
        var lines: [String] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil { lines.append(String(cString: buffer)) }
        return lines
        #else
        return nil
        #endif
    }

    static func executablePath() -> String? {
        #if os(Linux)
        var target = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &target, target.count - 1)
        return length > 0 ? String(cString: target) : nil
        #else
        return nil
        #endif
    }

    /// Classifies the mappings of an smaps text (one header line per mapping, then `Key: N kB` lines).
    /// `executable`: the program's path (its mappings count as binary).
    public static func parse(smaps lines: [String], executable: String? = nil) -> ResidentMemory {
        var result = ResidentMemory()
        var previous: (end: UInt64, guardPage: Bool)?
        var kind: WritableKeyPath<ResidentMemory, Int>?
        for line in lines {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let mapping = Mapping(fields) {
                let followsGuard = previous.map { $0.guardPage && $0.end == mapping.start } ?? false
                kind = mapping.kind(followsGuard: followsGuard, executable: executable)
                previous = (mapping.end, mapping.permissions.hasPrefix("---"))
            } else if fields.first == "Rss:", fields.count >= 2, let kilobytes = Int(fields[1]), let kind {
                result[keyPath: kind] += kilobytes * 1024
            }
        }
        return result
    }

    struct Mapping {
        let start: UInt64
        let end: UInt64
        let permissions: Substring
        let path: String

        /// `start-end perms offset dev inode [path]`; nil for the `Key: value` lines.
        init?(_ fields: [Substring]) {
            guard fields.count >= 5, let dash = fields[0].firstIndex(of: "-"),
                  let start = UInt64(fields[0][..<dash], radix: 16),
                  let end = UInt64(fields[0][fields[0].index(after: dash)...], radix: 16) else { return nil }
            self.start = start
            self.end = end
            permissions = fields[1]
            var path = fields.dropFirst(5).joined(separator: " ")
            while let last = path.last, last.isNewline { path.removeLast() }
            self.path = path
        }

        func kind(followsGuard: Bool, executable: String?) -> WritableKeyPath<ResidentMemory, Int> {
            if path == "[heap]" { return \.heapBytes }
            if path == "[stack]" { return \.stackBytes }
            if path.isEmpty { return followsGuard ? \.stackBytes : \.heapBytes }
            if path.hasPrefix("[") { return \.otherBytes }
            if path.hasSuffix(".safetensors") { return \.mappedWeightsBytes }
            if path == executable || path.hasSuffix(".so") || path.contains(".so.") { return \.binaryBytes }
            return \.otherBytes
        }
    }
}
