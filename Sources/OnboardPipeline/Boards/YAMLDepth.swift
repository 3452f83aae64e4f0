import OnboardCore

/// A bound on a YAML document's nesting, checked before parsing: the parser recurses once per
/// level, so a file nested thousands of levels deep would overflow the stack.
public enum YAMLDepth {
    public static let maxDepth = 64

    /// Throws if a flow collection (`[`, `{`) or a block (indentation, `- ` and `? ` markers) nests
    /// deeper than `maxDepth`; brackets inside quotes and comments do not count.
    public static func check(_ text: String, path: String) throws {
        var flow = 0
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func fail(_ what: String) -> OnboardError {
                .format(path: path, item: "line \(number + 1)", reason: "\(what) nest more than \(maxDepth) levels deep")
            }
            var block = 0, atStart = true, quote: Character?
            var previous: Character = " "
            for character in line {
                if let open = quote {
                    if character == open { quote = nil }
                } else if character == "#" && (previous == " " || atStart) {
                    break
                } else if character == "\"" || character == "'" {
                    quote = character
                    atStart = false
                } else if character == "[" || character == "{" {
                    flow += 1
                    atStart = false
                    guard flow <= maxDepth else { throw fail("flow collections") }
                } else if character == "]" || character == "}" {
                    flow = max(0, flow - 1)
                    atStart = false
                } else if atStart, character == " " || character == "-" || character == "?" {
                    if character != " " { block += 1 }
                } else {
                    atStart = false
                }
                previous = character
            }
            let indent = line.prefix { $0 == " " }.count
            guard indent / 2 + block <= maxDepth else { throw fail("blocks") }
        }
    }
}
