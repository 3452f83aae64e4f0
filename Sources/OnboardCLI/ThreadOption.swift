import ArgumentParser
import OnboardKit

/// `--threads`: at least 1, and at most this machine's cores (more only adds scratch memory and
/// contention), clamped with a note on stderr.
enum ThreadOption {
    static func clamped(_ threads: Int, option: String = "--threads") throws -> Int {
        guard threads >= 1 else { throw ValidationError("\(option) must be >= 1") }
        guard threads > Parallel.coreCount else { return threads }
        ProgressLog.standardError.line("onboard: note: \(option) \(threads) exceeds the \(Parallel.coreCount) cores of this machine; using \(Parallel.coreCount)")
        return Parallel.coreCount
    }
}
