/// Finds special tokens ("[CLS]", "[SEP]", ...) in raw text the way the fast tokenizer's added
/// vocabulary does before it normalizes anything: exact, case-sensitive scalar matches anywhere
/// (inside a word too: "a[SEP]b" is `a`, `[SEP]`, `b`), leftmost first and the longest at a
/// position. The text between matches is normalized and split on its own.
struct SpecialTokenMatcher: Sendable {
    private let tokens: [(scalars: [Unicode.Scalar], id: Int32)]

    /// `tokens` with their ids; an empty token is ignored.
    init(_ tokens: [(String, Int32)]) {
        self.tokens = tokens.map { (Array($0.0.unicodeScalars), $0.1) }
            .filter { !$0.scalars.isEmpty }
            .sorted { $0.scalars.count > $1.scalars.count }
    }

    /// Calls `text` for each stretch between special tokens (possibly empty) and `special` for
    /// each special token, in order.
    func split(_ scalars: ArraySlice<Unicode.Scalar>,
               text: (ArraySlice<Unicode.Scalar>) -> Void, special: (Int32) -> Void) {
        var stretchStart = scalars.startIndex
        var index = scalars.startIndex
        scan: while index < scalars.endIndex {
            for token in tokens where scalars[index...].starts(with: token.scalars) {
                text(scalars[stretchStart..<index])
                special(token.id)
                index += token.scalars.count
                stretchStart = index
                continue scan
            }
            index += 1
        }
        text(scalars[stretchStart..<scalars.endIndex])
    }
}
