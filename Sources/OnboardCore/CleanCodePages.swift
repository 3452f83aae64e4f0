#if canImport(Glibc)
import Glibc
#endif

/// The executable's and the shared libraries' clean pages, released from the resident set once a
/// command has loaded what it runs. The kernel maps file pages 64 KiB around each one touched, so
/// code and read-only data used only to start, parse tables and build the model (the dynamic
/// relocations and symbols among them) would otherwise stay resident for the whole run; after the
/// release only what runs again faults back in. The pages stay in the page cache.
public enum CleanCodePages {
    /// `madvise(MADV_DONTNEED)` on every mapping of the executable or a shared library that is not
    /// writable and holds no anonymous (copied-on-write) page, so nothing but file contents is
    /// dropped. Returns the bytes that were resident in them (0 where /proc/self/smaps is missing).
    @discardableResult
    public static func release() -> Int {
        guard let lines = ResidentMemory.smapsLines() else { return 0 }
        var released = 0
        for mapping in candidates(smaps: lines, executable: ResidentMemory.executablePath()) {
            #if os(Linux)
            guard let start = UnsafeMutableRawPointer(bitPattern: UInt(mapping.start)) else { continue }
            if madvise(start, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0 { released += mapping.residentBytes }
            #endif
        }
        return released
    }

    struct Candidate: Equatable {
        let start: UInt64, end: UInt64
        let residentBytes: Int
    }

    /// The mappings `release` drops, from an smaps text.
    static func candidates(smaps lines: [String], executable: String?) -> [Candidate] {
        var result: [Candidate] = []
        var current: ResidentMemory.Mapping?
        var resident = 0, anonymous: Int?
        func finish() {
            if let mapping = current, anonymous == 0 {
                result.append(Candidate(start: mapping.start, end: mapping.end, residentBytes: resident))
            }
        }
        for line in lines {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let mapping = ResidentMemory.Mapping(fields) {
                finish()
                let code = mapping.kind(followsGuard: false, executable: executable) == \ResidentMemory.binaryBytes
                current = code && !mapping.permissions.contains("w") ? mapping : nil
                (resident, anonymous) = (0, nil)
            } else if fields.count >= 2, let kilobytes = Int(fields[1]) {
                if fields[0] == "Rss:" { resident = kilobytes * 1024 }
                if fields[0] == "Anonymous:" { anonymous = kilobytes }
            }
        }
        finish()
        return result
    }
}
