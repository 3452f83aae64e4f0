import Foundation

/// A directory that outputs are written into.
public enum OutputDirectory {
    /// Creates `path` (and its parents) unless it exists; throws if it is a file or cannot be made.
    public static func ensure(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw OnboardError.io(path: path, reason: "exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw OnboardError.io(path: path, reason: "cannot create the output directory")
        }
    }
}
