/// How the fast BERT tokenizer treats one Unicode scalar (tokenizers `normalizers/bert.rs` and
/// `pre_tokenizers/bert.rs`).
enum ScalarClass: Sendable {
    /// Removed by the clean step (U+0000, U+FFFD, control scalars).
    case drop
    /// Whitespace: becomes a space, then separates words.
    case space
    /// Punctuation: a word of its own.
    case punctuation
    case other

    /// The class of each ASCII scalar: 0-8, 11, 12, 14-31 and 127 are dropped (category Cc, except
    /// tab, newline and carriage return, which are whitespace), 33-47, 58-64, 91-96 and 123-126
    /// are punctuation.
    static let ascii: [ScalarClass] = (0..<128).map { value -> ScalarClass in
        switch value {
        case 9, 10, 13, 32: return .space
        case 0..<32, 127: return .drop
        case 33...47, 58...64, 91...96, 123...126: return .punctuation
        default: return .other
        }
    }

    /// Rust's `char::is_whitespace` (the Unicode White_Space property), which the fast tokenizer
    /// uses; it is not Python's Zs test of the slow tokenizer: U+2028 and U+2029 count, U+0085 too
    /// (but it is a control and was dropped before).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// `is_control` of the fast tokenizer: a scalar of category Cc, Cf, Co or Cs (not Cn: an
    /// unassigned scalar is kept) except tab, newline and carriage return.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch category(scalar) {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// ASCII punctuation or Unicode category P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch category(scalar) {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// A nonspacing mark (Mn), which accent stripping removes after NFD.
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x80 && category(scalar) == .nonspacingMark
    }

    /// The general category as the fast tokenizer sees it. Its `is_control`, `is_punctuation`
    /// and `is_mark_nonspacing` use Unicode 8.0 tables (the Rust crate `unicode_categories`): a
    /// scalar assigned later is unassigned (Cn) there, and seven scalars have changed category
    /// since. Measured on every scalar against tokenizers 0.23 (Tests/Fixtures/text/
    /// tokenizer_scalars.json; `tools/make_tokenizer_fixtures.py --dump-scalars` lists them). The
    /// age test keeps newer Swift runtimes from changing the answer for scalars added later.
    static func category(_ scalar: Unicode.Scalar) -> Unicode.GeneralCategory {
        guard let age = scalar.properties.age, age.major < 8 || (age.major == 8 && age.minor == 0) else {
            return .unassigned
        }
        switch scalar.value {
        case 0x166D, 0x111C9: return .otherPunctuation  // now So, Mn
        case 0x1734, 0x1171E: return .nonspacingMark  // now Mc
        case 0x1885, 0x1886: return .otherLetter  // now Mn
        case 0xA9BD: return .spacingMark  // now Mn
        default: return scalar.properties.generalCategory
        }
    }

    /// Whether `scalar` was assigned after Unicode 9.0, the version of the fast tokenizer's NFD
    /// tables (an unassigned scalar counts as new too: it neither decomposes nor reorders).
    static func isNewerThanNFDTables(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return true }
        return age.major > 9 || (age.major == 9 && age.minor > 0)
    }

    /// The CJK ideograph blocks the tokenizer surrounds with spaces (kana and hangul are not in
    /// them). The fast tokenizer's fifth block starts at U+2B920, not at U+2B820 as in the slow
    /// tokenizer (`_is_chinese_char`): U+2B820...U+2B91F are ordinary letters here.
    static func isChinese(_ value: UInt32) -> Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
