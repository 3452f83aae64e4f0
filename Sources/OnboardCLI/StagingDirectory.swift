import Foundation
import OnboardCore

/// An output directory written whole: files go to a hidden sibling of the target, which replaces the
/// target only when everything is there, so a failed run leaves nothing half-written.
struct StagingDirectory {
    let target: String
    let path: String

    /// Checks the target may be replaced (absent, empty, or holding `marker` from an earlier run) and
    /// creates the staging directory beside it.
    init(target: String, marker: String) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: target, isDirectory: &isDirectory) {
            let entries = isDirectory.boolValue ? (try? fileManager.contentsOfDirectory(atPath: target)) : nil
            guard let entries, entries.isEmpty || entries.contains(marker) else {
                throw OnboardError.io(path: target, reason: "exists and is not an earlier report (no \(marker)); refusing to replace it")
            }
        }
        let parent = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        self.target = target
        path = ((parent.isEmpty ? "." : parent) as NSString).appendingPathComponent(".\(name).tmp-\(getpid())")
        try? fileManager.removeItem(atPath: path)
        do {
            try fileManager.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw OnboardError.io(path: target, reason: "cannot create a directory beside it: \(error.localizedDescription)")
        }
    }

    /// A path inside the staging directory.
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Moves the staging directory into place, replacing an earlier target.
    func commit() throws {
        let fileManager = FileManager.default
        let old = path + ".old"
        do {
            if fileManager.fileExists(atPath: target) { try fileManager.moveItem(atPath: target, toPath: old) }
            try fileManager.moveItem(atPath: path, toPath: target)
            try? fileManager.removeItem(atPath: old)
        } catch {
            if !fileManager.fileExists(atPath: target), fileManager.fileExists(atPath: old) {
                try? fileManager.moveItem(atPath: old, toPath: target)
            }
            throw OnboardError.io(path: target, reason: "cannot move the finished report into place: \(error.localizedDescription)")
        }
    }

    /// Removes the staging directory (after an error).
    func discard() { try? FileManager.default.removeItem(atPath: path) }
}
