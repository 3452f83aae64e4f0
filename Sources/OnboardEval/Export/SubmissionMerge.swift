import Foundation
import OnboardCore

/// Results files of disjoint sample sets (written by `ResultsWriter`) joined into one, byte for byte
/// the file `ResultsWriter` writes for all their samples at once: each sample's boxes are copied as
/// written, in the sorted order of its token. Only the index of each file is held, never its boxes.
public enum SubmissionMerge {
    public struct Summary: Sendable {
        public var samples: Int
        public var boxes: Int
    }

    /// Where one sample's box array lies in its file.
    struct Entry {
        var file: Int
        var range: Range<Int>
    }

    /// Merges `parts` into `path` (replaced atomically). Refuses a sample present in two parts, a
    /// part that is not a results file, and parts whose `meta` differ.
    @discardableResult
    public static func merge(parts: [String], to path: String) throws -> Summary {
        var entries: [String: Entry] = [:]
        var meta: [String: Bool]?
        var boxes = 0
        for (file, part) in parts.enumerated() {
            let index = try self.index(part)
            if let meta, meta != index.meta {
                throw OnboardError.format(path: part, item: "meta", reason: "differs from \(parts[0])'s: the parts are not of one run")
            }
            meta = index.meta
            for (token, range) in index.samples {
                if let earlier = entries[token] {
                    throw OnboardError.format(path: part, item: "results.\(token)",
                                              reason: "the sample is also in \(parts[earlier.file]): parts overlap")
                }
                entries[token] = Entry(file: file, range: range)
            }
            boxes += index.boxes
        }
        let handles = try parts.map { part -> FileHandle in
            guard let handle = FileHandle(forReadingAtPath: part) else { throw OnboardError.io(path: part, reason: "cannot open it") }
            return handle
        }
        defer { for handle in handles { try? handle.close() } }
        try AtomicFile(path: path).write { sink in
            var out = SubmissionText()
            out.header(meta: meta ?? ResultsWriter.cameraOnlyMeta)
            for (i, token) in entries.keys.sorted().enumerated() {
                guard let entry = entries[token] else { continue }
                out.sampleKey(token, first: i == 0)
                try sink.append(out.take())
                try sink.append(try read(handles[entry.file], entry.range, path: parts[entry.file]))
            }
            out.append("}}")
            try sink.append(out.take())
        }
        return Summary(samples: entries.count, boxes: boxes)
    }

    /// The `meta` of a results file and the byte range of each sample's box array.
    static func index(_ path: String) throws -> (meta: [String: Bool], samples: [(String, Range<Int>)], boxes: Int) {
        var parser = JSONParser(bytes: [UInt8](try InputFile.read(path, what: "results part")), path: path)
        var meta: [String: Bool]?
        var samples: [(String, Range<Int>)] = []
        var boxes = 0
        try parser.parseObjectMembers { key, parser in
            switch key {
            case "meta":
                guard let members = try parser.parseValue().object else {
                    throw OnboardError.format(path: path, item: "meta", reason: "must be an object")
                }
                meta = try members.mapValues { value in
                    guard case let .bool(flag) = value else {
                        throw OnboardError.format(path: path, item: "meta", reason: "holds a value that is not true or false")
                    }
                    return flag
                }
            case "results":
                try parser.parseObjectMembers { token, parser in
                    _ = parser.peek()
                    let start = parser.position
                    guard let array = try parser.parseValue().array else {
                        throw OnboardError.format(path: path, item: "results.\(token)", reason: "must be an array of boxes")
                    }
                    samples.append((token, start..<parser.position))
                    boxes += array.count
                }
            default:
                _ = try parser.parseValue()
            }
        }
        try parser.finish()
        guard let meta else { throw OnboardError.format(path: path, item: "meta", reason: "missing") }
        return (meta, samples, boxes)
    }

    static func read(_ handle: FileHandle, _ range: Range<Int>, path: String) throws -> [UInt8] {
        do {
            try handle.seek(toOffset: UInt64(range.lowerBound))
            let data = try handle.read(upToCount: range.count) ?? Data()
            guard data.count == range.count else { throw OnboardError.io(path: path, reason: "changed while it was merged") }
            return [UInt8](data)
        } catch let error as OnboardError {
            throw error
        } catch {
            throw OnboardError.io(path: path, reason: "cannot read it: \(error.localizedDescription)")
        }
    }
}
