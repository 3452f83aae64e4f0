import Foundation

/// Where a workflow reports progress and notes for people: one line per message, standard error by
/// default. `silent` for callers that show nothing.
public struct ProgressLog: Sendable {
    private let write: @Sendable (String) -> Void
    /// Progress refreshes one line in place (a terminal) instead of printing every tenth step.
    private let inPlace: Bool

    public init(inPlace: Bool = false, write: @escaping @Sendable (String) -> Void) {
        self.write = write
        self.inPlace = inPlace
    }

    public static let standardError = ProgressLog(inPlace: isatty(FileHandle.standardError.fileDescriptor) != 0) { text in
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static let silent = ProgressLog { _ in }

    public func line(_ text: String) { write(text + "\n") }

    /// "label: done/total", refreshed in place on a terminal, else about every tenth step.
    public func progress(_ label: String, _ done: Int, _ total: Int) {
        let text = "\(label): \(done)/\(total)"
        if inPlace {
            write("\r" + text + (done == total ? "\n" : ""))
        } else if done == total || done % max(1, total / 10) == 0 {
            line(text)
        }
    }
}
