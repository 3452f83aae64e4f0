/// Path arithmetic without Foundation's `NSString` path methods, whose Linux build (Swift 6.3)
/// traps on some one-character paths (`("q" as NSString).deletingLastPathComponent`, also "." and
/// "a/"), which users type as output names.
public enum FilePaths {
    /// The directory part, as `deletingLastPathComponent` defines it: "a/b" → "a", "/a" → "/",
    /// "a" → "", "a/b/" → "a"; repeated slashes before the last component go with it.
    public static func parent(of path: String) -> String {
        var path = Substring(path)
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard let slash = path.lastIndex(of: "/") else { return "" }
        var head = path[..<slash]
        while head.hasSuffix("/") { head.removeLast() }
        return head.isEmpty ? "/" : String(head)
    }
}
