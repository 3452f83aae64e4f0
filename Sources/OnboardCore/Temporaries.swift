import Foundation

/// The temporary files and staging directories a run is writing, removed when SIGINT or SIGTERM
/// stops it, so an interrupted run leaves the old output or the new one and nothing beside it.
///
/// Temporaries are hidden siblings named `.NAME.tmp-PID-N`; one left by a killed process (SIGKILL)
/// is removed by the next run that writes NAME.
public enum Temporaries {
    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var paths: [Int: String] = [:]
        var next = 0
        var sources: [DispatchSourceSignal] = []
    }

    private static let registry = Registry()

    /// A fresh temporary path beside `target` for this process.
    public static func sibling(of target: String) -> String {
        let (parent, name) = split(target)
        registry.lock.lock()
        registry.next += 1
        let n = registry.next
        registry.lock.unlock()
        return (parent as NSString).appendingPathComponent(".\(name).tmp-\(getpid())-\(n)")
    }

    /// Removes `path` (and everything under it) on an interrupt until `release` is called.
    public static func register(_ path: String) -> Int {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        registry.next += 1
        registry.paths[registry.next] = path
        return registry.next
    }

    public static func release(_ id: Int) {
        registry.lock.lock()
        registry.paths[id] = nil
        registry.lock.unlock()
    }

    /// Runs `body` (the renames that put an output in place) where no interrupt cuts in.
    public static func commit<T>(_ body: () throws -> T) rethrows -> T {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        return try body()
    }

    /// Whether `path` lies inside a registered temporary (a staging directory): nothing stale to look for.
    public static func isStaged(_ path: String) -> Bool {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        return registry.paths.values.contains { path.hasPrefix($0 + "/") }
    }

    /// Removes temporaries beside `target` left by processes that no longer run.
    public static func removeStale(beside target: String) {
        let (parent, name) = split(target)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        // `NAME.tmp-PID-…` is the layout of earlier versions.
        for entry in entries {
            guard let rest = [".\(name).tmp-", "\(name).tmp-"].lazy.compactMap({ entry.hasPrefix($0) ? entry.dropFirst($0.count) : nil }).first,
                  let pid = Int32(rest.prefix { $0.isNumber }), pid > 0, pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: (parent as NSString).appendingPathComponent(entry))
        }
    }

    /// Installs the SIGINT/SIGTERM handling (once, by the command line): remove every registered
    /// temporary, then exit 130 or 143.
    public static func installSignalHandlers() {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        guard registry.sources.isEmpty else { return }
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { interrupted(by: signalNumber) }
            source.resume()
            registry.sources.append(source)
        }
    }

    /// Waits while an interrupt is being handled (the process then exits from the handler), so a
    /// run does not report an error caused by its temporaries being removed under it.
    public static func settle() {
        registry.lock.lock()
        registry.lock.unlock()
    }

    private static func interrupted(by signalNumber: Int32) {
        // Held until the process exits: no output is renamed into place after this point.
        registry.lock.lock()
        // A thread still creating directories under a staging directory by its path (`mkdir -p`)
        // would make it again after it is removed: it is renamed away first, and a file holds its
        // name (so those calls fail) until the process exits.
        var placeholders: [String] = [], doomed: [String] = []
        for path in registry.paths.values {
            for attempt in 0..<100 {
                let away = "\(path)-removing-\(attempt)"
                if rename(path, away) == 0 {
                    doomed.append(away)
                } else if errno != ENOENT {
                    try? FileManager.default.removeItem(atPath: path)
                    break
                }
                let placeholder = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
                if placeholder >= 0 {
                    close(placeholder)
                    placeholders.append(path)
                    break
                }
            }
        }
        for path in doomed { try? FileManager.default.removeItem(atPath: path) }
        for path in placeholders { unlink(path) }
        let message = "onboard: interrupted (\(signalNumber == SIGINT ? "SIGINT" : "SIGTERM")); temporary files removed\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        _exit(128 + signalNumber)
    }

    private static func split(_ target: String) -> (parent: String, name: String) {
        let parent = FilePaths.parent(of: target)
        return (parent.isEmpty ? "." : parent, (target as NSString).lastPathComponent)
    }
}
