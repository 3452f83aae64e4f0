import Foundation

/// The Hugging Face fast tokenizer's `BertNormalizer` followed by its `BertPreTokenizer`: text in,
/// words out. The steps, in the fast tokenizer's order (tokenizers `normalizers/bert.rs`,
/// `pre_tokenizers/bert.rs`):
/// 1. clean: drop U+0000, U+FFFD and control scalars ([`ScalarClass.isControl`]); every
///    whitespace scalar becomes a space;
/// 2. CJK ideographs get a space on each side;
/// 3. strip accents (if on): NFD of the whole text, then drop nonspacing marks (Mn);
/// 4. lowercase (if on): each scalar's full lowercase mapping on its own (no context, so a
///    final capital sigma becomes `σ`, not `ς`; `İ` became `I` + U+0307 in step 3, then `i`);
/// 5. split on whitespace (dropped) and on punctuation (each punctuation scalar is a word).
/// The character classes follow the Unicode tables of the Rust crates the tokenizer is built on,
/// not the Swift runtime's (`ScalarClass`, `decomposingWithoutMarks`).
struct BasicTokenizer: Sendable {
    var handleChineseChars: Bool
    var stripAccents: Bool
    var lowercase: Bool

    /// Appends the words of `text` (a stretch without special tokens) to `words`.
    func appendWords<S: Collection<Unicode.Scalar>>(of text: S, to words: inout WordList) {
        var stage: [Unicode.Scalar] = []
        stage.reserveCapacity(text.count + 8)
        var allASCII = true
        for scalar in text {
            let value = scalar.value
            if value < 0x80 {
                switch ScalarClass.ascii[Int(value)] {
                case .drop: continue
                case .space: stage.append(" ")
                default: stage.append(scalar)
                }
                continue
            }
            allASCII = false
            if value == 0xFFFD || ScalarClass.isControl(scalar) { continue }
            if ScalarClass.isWhitespace(scalar) {
                stage.append(" ")
            } else if handleChineseChars && ScalarClass.isChinese(value) {
                stage.append(" ")
                stage.append(scalar)
                stage.append(" ")
            } else {
                stage.append(scalar)
            }
        }
        if !allASCII && stripAccents { stage = Self.decomposingWithoutMarks(stage) }
        splitWords(stage, lowercasing: lowercase, into: &words)
    }

    /// Step 3: NFD, then drop nonspacing marks. The fast tokenizer's NFD (Rust crate
    /// `unicode-normalization-alignments`) has Unicode 9.0 tables: a later scalar neither
    /// decomposes nor reorders (canonical combining class 0), so it is passed through as is and
    /// the runs between such scalars are decomposed on their own (canonical reordering never
    /// crosses a class-0 scalar, so this is the same as one pass with 9.0 tables).
    static func decomposingWithoutMarks(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count + 8)
        var run = String.UnicodeScalarView()
        func flush() {
            guard !run.isEmpty else { return }
            for scalar in String(run).decomposedStringWithCanonicalMapping.unicodeScalars
            where !ScalarClass.isNonspacingMark(scalar) {
                result.append(scalar)
            }
            run = String.UnicodeScalarView()
        }
        for scalar in scalars {
            if scalar.value < 0x80 {
                if !run.isEmpty { run.append(scalar) } else { result.append(scalar) }
            } else if ScalarClass.isNewerThanNFDTables(scalar) {
                flush()
                result.append(scalar)
            } else {
                run.append(scalar)
            }
        }
        flush()
        return result
    }

    /// Step 4 and 5: lowercase each scalar and split into words.
    private func splitWords(_ stage: [Unicode.Scalar], lowercasing: Bool, into words: inout WordList) {
        var wordStart = words.scalars.count
        func closeWord() {
            if words.scalars.count > wordStart { words.ends.append(words.scalars.count) }
            wordStart = words.scalars.count
        }
        func appendLowered(_ scalar: Unicode.Scalar) {
            if !lowercasing {
                words.scalars.append(scalar)
            } else if scalar.value < 0x80 {
                let value = scalar.value
                words.scalars.append(value >= 0x41 && value <= 0x5A ? Unicode.Scalar(UInt8(value + 32)) : scalar)
            } else if scalar.properties.changesWhenLowercased {
                words.scalars.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                words.scalars.append(scalar)
            }
        }
        for scalar in stage {
            // Lowercasing never turns a scalar into whitespace or punctuation (and the mapping
            // of a punctuation scalar is itself), so classify before lowercasing.
            let kind: ScalarClass
            if scalar.value < 0x80 {
                kind = ScalarClass.ascii[Int(scalar.value)]
            } else if ScalarClass.isWhitespace(scalar) {
                kind = .space
            } else if ScalarClass.isPunctuation(scalar) {
                kind = .punctuation
            } else {
                kind = .other
            }
            switch kind {
            case .space, .drop:
                closeWord()
            case .punctuation:
                closeWord()
                appendLowered(scalar)
                closeWord()
            case .other:
                appendLowered(scalar)
            }
        }
        closeWord()
    }
}

/// Words as one scalar buffer and the end of each word in it (no allocation per word).
struct WordList {
    var scalars: [Unicode.Scalar] = []
    var ends: [Int] = []

    var count: Int { ends.count }

    func range(_ index: Int) -> Range<Int> {
        (index == 0 ? 0 : ends[index - 1])..<ends[index]
    }
}
