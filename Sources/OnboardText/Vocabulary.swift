import Foundation
import OnboardCore

/// A WordPiece vocabulary (`vocab.txt`: one token a line, the id is the line's index from 0).
/// Lookups compare UTF-8 bytes, as the Rust tokenizer's `HashMap<String, u32>` does; a Swift
/// `String` key would compare canonically equivalent spellings as equal (U+2126 OHM SIGN and
/// U+03A9 OMEGA), so the tokens live in one byte buffer with an open-addressing table over it.
public struct Vocabulary: Sendable {
    /// Number of tokens.
    public let count: Int
    /// The most scalars in a token, and in a continuation token after its `##`: no longer
    /// candidate can match, so the longest-match search starts there.
    let maxScalars: Int
    let maxContinuationScalars: Int
    private let bytes: [UInt8]
    /// Token i is `bytes[starts[i]..<starts[i + 1]]`.
    private let starts: [Int]
    /// Token ids by hash; -1 marks an empty slot. The size is a power of two.
    private let slots: [Int32]

    /// Reads `path`; errors name the file and the line.
    public init(contentsOf path: String) throws {
        try self.init(parsing: try InputFile.read(path, what: "vocabulary"), path: path)
    }

    /// Lines end in `\n` or `\r\n`; the last line may lack its end. A line that is empty, not
    /// UTF-8 or a repeat of an earlier one is an error (ids are line numbers, so no line can be
    /// skipped).
    public init(parsing data: Data, path: String) throws {
        var lines = Array(data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false))
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { throw OnboardError.format(path: path, item: nil, reason: "no tokens (the file is empty)") }
        guard lines.count < Int(Int32.max) else { throw OnboardError.format(path: path, item: nil, reason: "too many tokens") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count)
        var starts: [Int] = [0]
        starts.reserveCapacity(lines.count + 1)
        var maxScalars = 0, maxContinuationScalars = 0
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            guard let token = String(validating: line, as: UTF8.self) else {
                throw OnboardError.format(path: path, item: "line \(index + 1)", reason: "not valid UTF-8")
            }
            guard !token.isEmpty else { throw OnboardError.format(path: path, item: "line \(index + 1)", reason: "empty token") }
            let scalars = token.unicodeScalars.count
            maxScalars = max(maxScalars, scalars)
            if line.starts(with: [UInt8(ascii: "#"), UInt8(ascii: "#")]) { maxContinuationScalars = max(maxContinuationScalars, scalars - 2) }
            bytes.append(contentsOf: line)
            starts.append(bytes.count)
        }
        var capacity = 16
        while capacity < 2 * lines.count { capacity *= 2 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        for id in 0..<lines.count {
            var slot = Int(truncatingIfNeeded: Self.hash(bytes[starts[id]..<starts[id + 1]])) & mask
            while slots[slot] >= 0 {
                let other = Int(slots[slot])
                if bytes[starts[other]..<starts[other + 1]].elementsEqual(bytes[starts[id]..<starts[id + 1]]) {
                    let token = String(decoding: bytes[starts[id]..<starts[id + 1]], as: UTF8.self)
                    throw OnboardError.format(path: path, item: "line \(id + 1)",
                                              reason: "duplicate token \"\(token)\" (also line \(other + 1))")
                }
                slot = (slot + 1) & mask
            }
            slots[slot] = Int32(id)
        }
        self.count = lines.count
        self.maxScalars = maxScalars
        self.maxContinuationScalars = maxContinuationScalars
        self.bytes = bytes
        self.starts = starts
        self.slots = slots
    }

    /// The id of `token` (compared byte for byte), or nil.
    public func id(of token: String) -> Int32? {
        Array(token.utf8).withUnsafeBufferPointer { id(of: $0, continuation: false) }
    }

    /// The token with id `id`, or nil if it is out of range.
    public func token(_ id: Int32) -> String? {
        guard id >= 0, Int(id) < count else { return nil }
        return String(decoding: bytes[starts[Int(id)]..<starts[Int(id) + 1]], as: UTF8.self)
    }

    /// The id of `utf8` (with `##` before it if `continuation`), or nil.
    func id(of utf8: UnsafeBufferPointer<UInt8>, continuation: Bool) -> Int32? {
        var hash = Self.offsetBasis
        if continuation {
            hash = Self.mix(hash, UInt8(ascii: "#"))
            hash = Self.mix(hash, UInt8(ascii: "#"))
        }
        for byte in utf8 { hash = Self.mix(hash, byte) }
        let mask = slots.count - 1
        let prefix = continuation ? 2 : 0
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            guard id >= 0 else { return nil }
            let start = starts[Int(id)], end = starts[Int(id) + 1]
            if end - start == utf8.count + prefix
                && (!continuation || (bytes[start] == UInt8(ascii: "#") && bytes[start + 1] == UInt8(ascii: "#")))
                && bytes[(start + prefix)..<end].elementsEqual(utf8) {
                return id
            }
            slot = (slot + 1) & mask
        }
    }

    // FNV-1a, 64 bits.
    private static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325

    private static func mix(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    private static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(offsetBasis, mix)
    }
}
