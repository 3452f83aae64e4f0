import Foundation
import OnboardCore

/// The parts given to `merge`, checked to be every shard of one run exactly once: one kind, one
/// shard count, no index missing or repeated, one identity, and slices that together are the
/// run's samples in order.
struct PartSet {
    struct Part {
        var path: String
        var manifest: PartManifest
    }

    /// In shard order.
    let parts: [Part]
    let kind: PartManifest.Kind

    init(paths: [String]) throws {
        guard !paths.isEmpty else { throw OnboardError.invalidArgument("merge: no parts given") }
        let loaded = try paths.map { Part(path: $0, manifest: try PartManifest.read(part: $0)) }
        let first = loaded[0]
        var byIndex: [Int: Part] = [:]
        for part in loaded {
            let m = part.manifest
            if m.kind != first.manifest.kind {
                throw Self.mismatch(part, first, field: "kind", m.kind.rawValue, first.manifest.kind.rawValue)
            }
            if m.shard.count != first.manifest.shard.count {
                throw Self.mismatch(part, first, field: "shard.count", "\(m.shard.count)", "\(first.manifest.shard.count)")
            }
            if let difference = m.identity.difference(from: first.manifest.identity) {
                throw Self.mismatch(part, first, field: "identity.\(difference.field)", difference.mine, difference.theirs)
            }
            if let earlier = byIndex[m.shard.index] {
                throw OnboardError.format(path: part.path, item: "shard",
                                          reason: "shard \(m.shard) is also \(earlier.path): give each shard once")
            }
            byIndex[m.shard.index] = part
        }
        let count = first.manifest.shard.count
        let missing = (0..<count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            let list = missing.prefix(10).map { "\($0)/\(count)" }.joined(separator: ", ") + (missing.count > 10 ? ", ..." : "")
            throw OnboardError.invalidArgument("merge: \(missing.count) of \(count) shards missing (\(list)); run them and merge again")
        }
        parts = (0..<count).compactMap { byIndex[$0] }
        kind = first.manifest.kind
        let identity = first.manifest.identity
        let covered = parts.flatMap(\.manifest.samples)
        guard covered.count == identity.sampleCount, ContentDigest.text(covered.joined(separator: "\n")) == identity.samples else {
            throw OnboardError.format(path: first.path, item: "samples",
                                      reason: "the parts' slices do not make up the run's \(identity.sampleCount) samples (a part was edited or is damaged)")
        }
    }

    var identity: RunIdentity { parts[0].manifest.identity }

    func file(_ name: String, of part: Part) -> String { (part.path as NSString).appendingPathComponent(name) }

    static func mismatch(_ part: Part, _ first: Part, field: String, _ mine: String, _ theirs: String) -> OnboardError {
        OnboardError.format(path: part.path, item: field,
                            reason: "'\(mine)' differs from \(first.path)'s '\(theirs)': the parts are not of one run")
    }
}
