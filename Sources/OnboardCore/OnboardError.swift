/// Errors that reach a user: each names the file or item at fault.
public enum OnboardError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A file could not be read or written.
    case io(path: String, reason: String)
    /// A file is malformed; `item` names the tensor, key or record inside it.
    case format(path: String, item: String?, reason: String)
    /// A tensor or value has the wrong shape or type.
    case shape(item: String, reason: String)
    /// A command-line or API argument is invalid.
    case invalidArgument(String)
    /// A model, graph or plan is inconsistent.
    case model(item: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .format(path, item, reason):
            if let item { return "\(path): \(item): \(reason)" }
            return "\(path): \(reason)"
        case let .shape(item, reason):
            return "\(item): \(reason)"
        case let .invalidArgument(reason):
            return reason
        case let .model(item, reason):
            return "\(item): \(reason)"
        }
    }
}
