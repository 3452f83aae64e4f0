import Foundation

/// An output directory written whole: files go to a hidden sibling of the target (`Temporaries`),
/// which takes the target's place only when everything is there. The old output stays in place
/// until the new one is (the two are exchanged, then the old is removed), so a failed or
/// interrupted run leaves one of them whole.
///
/// Each committed directory holds `OutputManifest.name`, listing what Onboard wrote; a target is
/// replaced only when it is empty or holds nothing else, unless `force`.
public struct StagingDirectory {
    /// The directory replaced (a link's destination).
    public let target: String
    /// Where the files are written until `commit`.
    public let path: String
    private let registration: Int

    public init(target: String, force: Bool = false) throws {
        let target = try Self.check(target, force: force)
        let parent = FilePaths.parent(of: target)
        do {
            if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        } catch {
            throw OnboardError.io(path: target, reason: "cannot create its directory: \(error.localizedDescription)")
        }
        if !Temporaries.isStaged(target) { Temporaries.removeStale(beside: target) }
        self.target = target
        path = Temporaries.sibling(of: target)
        registration = Temporaries.register(path)
        guard mkdir(path, 0o755) == 0 else {
            Temporaries.release(registration)
            throw OnboardError.io(path: target, reason: "cannot create a directory beside it: \(String(cString: strerror(errno)))")
        }
    }

    /// The directory `target` resolves to, when it may be replaced: absent, empty, written by
    /// Onboard (and holding nothing else), or any directory with `force`.
    @discardableResult
    public static func check(_ target: String, force: Bool) throws -> String {
        let resolved = try OutputPath.directory(target)
        guard !force, FileManager.default.fileExists(atPath: resolved) else { return resolved }
        guard OutputManifest.replaceable(resolved) else {
            throw OnboardError.io(path: target, reason: "holds files Onboard did not write (not listed in an \(OutputManifest.name)); "
                + "refusing to replace it unless forced")
        }
        return resolved
    }

    /// A path inside the staging directory.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes the manifest and puts the staging directory in the target's place.
    public func commit() throws {
        do {
            try OutputManifest.write(in: path)
        } catch {
            discard()
            throw error
        }
        let outcome: Int32 = Temporaries.commit {
            if rename(path, target) == 0 { return 0 }
            // The target exists (rename onto a non-empty directory fails): exchange the two.
            if Self.exchange(path, target) == 0 { return 0 }
            guard errno == EINVAL || errno == ENOSYS else { return errno }
            // No exchange on this file system: move the old output aside; no interrupt cuts in here.
            let old = path + "-old"
            guard rename(target, old) == 0 else { return errno }
            guard rename(path, target) == 0 else {
                let failure = errno
                rename(old, target)
                return failure
            }
            rename(old, path)
            return 0
        }
        guard outcome == 0 else {
            discard()
            throw OnboardError.io(path: target, reason: "cannot move the finished output into place: \(String(cString: strerror(outcome)))")
        }
        discard()
    }

    /// Removes the staging directory (after an error, or the old output after `commit`).
    public func discard() {
        try? FileManager.default.removeItem(atPath: path)
        Temporaries.release(registration)
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// renameat2(RENAME_EXCHANGE), looked up at run time (Swift's Glibc module does not declare it).
    private static func exchange(_ a: String, _ b: String) -> Int32 {
        #if os(Linux)
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "renameat2") else {
            errno = ENOSYS
            return -1
        }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */)
        #else
        errno = ENOSYS
        return -1
        #endif
    }
}
