import Crypto
import Foundation
import OnboardCore

/// SHA-256 of files and texts, hex: what a sharded run records of its inputs so that parts made
/// from other inputs are not merged together (the same value `sha256sum` prints for one file).
public enum ContentDigest {
    /// The digest of one file, read in blocks.
    public static func file(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw OnboardError.io(path: path, reason: "cannot open it to compute its digest")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty { hasher.update(data: block) }
        } catch {
            throw OnboardError.io(path: path, reason: "cannot read it: \(error.localizedDescription)")
        }
        return hex(hasher.finalize())
    }

    /// The digest of several named files together: each file's name and digest, in the order given.
    public static func files(_ named: [(name: String, path: String)]) throws -> String {
        try text(named.map { "\($0.name) \(try file($0.path))" }.joined(separator: "\n"))
    }

    public static func text(_ text: String) -> String { hex(SHA256.hash(data: Data(text.utf8))) }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
