import Foundation

/// Where an output may go. A symbolic link is followed (the file or directory it names is
/// replaced, the link stays); a dangling link, a device, FIFO or socket is refused; an output may
/// not be, lie inside, or (for a directory) hold one of the run's inputs.
public enum OutputPath {
    /// An input of the run, named for the error as the caller names it (`model`, `--model`).
    public struct Input {
        public var option: String
        public var path: String
        public init(_ option: String, _ path: String) { self.option = option; self.path = path }
    }

    /// The path a file output is written to (`path`, or the file its link names); throws when it
    /// cannot be replaced by a file.
    public static func file(_ path: String) throws -> String {
        let resolved = try followLink(path)
        var info = stat()
        guard lstat(resolved, &info) == 0 else {
            let parent = FilePaths.parent(of: resolved)
            var isDirectory: ObjCBool = false
            guard parent.isEmpty || (FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) && isDirectory.boolValue) else {
                throw OnboardError.io(path: path, reason: "its directory \(parent) does not exist")
            }
            return resolved
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return resolved
        case S_IFDIR: throw OnboardError.io(path: path, reason: "is a directory; name a file to write")
        default: throw OnboardError.io(path: path, reason: "is not a regular file (a device, FIFO or socket); refusing to write to it")
        }
    }

    /// The path a directory output is staged beside (`path`, or the directory its link names).
    public static func directory(_ path: String) throws -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        let resolved = try followLink(path)
        var info = stat()
        if lstat(resolved, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
            throw OnboardError.io(path: path, reason: "exists and is not a directory")
        }
        return resolved
    }

    /// Checks a file output: writable as a file, and not one of the inputs or inside one.
    public static func checkFile(_ path: String, option: String, inputs: [Input]) throws {
        let target = canonical(try file(path))
        for input in inputs {
            let source = canonical(input.path)
            if target == source || target.hasPrefix(source + "/") {
                throw OnboardError.io(path: path, reason: "\(option) \(target == source ? "is" : "lies inside") the \(input.option) input; choose another output")
            }
        }
    }

    /// Checks a directory output: not one of the inputs, inside one, or holding one.
    public static func checkDirectory(_ path: String, option: String, inputs: [Input]) throws {
        let target = canonical(try directory(path))
        for input in inputs {
            let source = canonical(input.path)
            let relation = target == source ? "is" : source.hasPrefix(target + "/") ? "holds" : target.hasPrefix(source + "/") ? "lies inside" : nil
            if let relation {
                throw OnboardError.io(path: path, reason: "\(option) \(relation) the \(input.option) input; choose another output")
            }
        }
    }

    /// `path` with symbolic links resolved; refuses a link that names nothing.
    static func followLink(_ path: String) throws -> String {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return path }
        guard let resolved = realpath(path, nil) else {
            throw OnboardError.io(path: path, reason: "is a symbolic link to nothing; refusing to write through it")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The absolute path with links resolved, for paths that do not exist yet too (their nearest
    /// existing ancestor is resolved).
    static func canonical(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        var head = (absolute as NSString).standardizingPath
        var tail: [String] = []
        while head != "/" && !head.isEmpty {
            if let resolved = realpath(head, nil) {
                defer { free(resolved) }
                return ([String(cString: resolved)] + tail.reversed()).joined(separator: "/")
            }
            tail.append((head as NSString).lastPathComponent)
            head = FilePaths.parent(of: head)
        }
        return "/" + tail.reversed().joined(separator: "/")
    }
}
