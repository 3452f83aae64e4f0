import Foundation
import OnboardCore

/// The ids of one text: `[CLS]`, the word pieces, `[SEP]`.
public struct TokenEncoding: Equatable, Sendable {
    public var ids: [Int32]
    /// How many word pieces truncation dropped (0 if none).
    public var droppedPieces: Int

    public init(ids: [Int32], droppedPieces: Int) {
        self.ids = ids
        self.droppedPieces = droppedPieces
    }
}

/// A BERT WordPiece tokenizer that gives the ids of the Hugging Face fast tokenizer
/// (`tokenizer.json` with `BertNormalizer`, `BertPreTokenizer`, `WordPiece` and the
/// `[CLS] A [SEP]` template) as sentence-transformers calls it. The steps:
/// 1. strip leading and trailing whitespace as Python's `str.strip()` does;
/// 2. split out special tokens written in the text (`SpecialTokenMatcher`);
/// 3. normalize and split each stretch between them into words (`BasicTokenizer`);
/// 4. WordPiece each word (`WordPiece`);
/// 5. keep the first `maxLength - 2` pieces and wrap them in `[CLS]` ... `[SEP]`.
public struct WordPieceTokenizer: Sendable {
    public let vocabularySize: Int
    public let clsID: Int32, sepID: Int32, padID: Int32, unkID: Int32
    public let config: TokenizerConfig
    /// The tokens (`vocabulary.token(id)` spells an id).
    public let vocabulary: Vocabulary
    private let basic: BasicTokenizer
    private let wordPiece: WordPiece
    private let specials: SpecialTokenMatcher

    /// Reads `vocab.txt` and `tokenizer_config.json` (optional: transformers' defaults without
    /// it) of a Hugging Face model directory. Errors name the file and the field or line.
    public init(directory: String) throws {
        let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
        let vocabularyPath = (directory as NSString).appendingPathComponent("vocab.txt")
        let config = try TokenizerConfig.read(configPath)
        try self.init(vocabulary: try Vocabulary(contentsOf: vocabularyPath), config: config,
                      vocabularyPath: vocabularyPath)
    }

    /// A tokenizer of `vocabulary`, which must hold the five special tokens of `config`
    /// (an error names `vocabularyPath` and the config field otherwise).
    public init(vocabulary: Vocabulary, config: TokenizerConfig, vocabularyPath: String = "vocab.txt") throws {
        func id(_ token: String, _ field: String) throws -> Int32 {
            guard let id = vocabulary.id(of: token) else {
                throw OnboardError.format(path: vocabularyPath, item: nil,
                                          reason: "no line holds the \(field) \"\(token)\"")
            }
            return id
        }
        clsID = try id(config.clsToken, "cls_token")
        sepID = try id(config.sepToken, "sep_token")
        padID = try id(config.padToken, "pad_token")
        unkID = try id(config.unkToken, "unk_token")
        let maskID = try id(config.maskToken, "mask_token")
        vocabularySize = vocabulary.count
        self.vocabulary = vocabulary
        self.config = config
        basic = BasicTokenizer(handleChineseChars: config.tokenizeChineseChars, stripAccents: config.stripsAccents,
                               lowercase: config.doLowerCase)
        wordPiece = WordPiece(vocabulary: vocabulary, unkID: unkID)
        specials = SpecialTokenMatcher([(config.padToken, padID), (config.unkToken, unkID), (config.clsToken, clsID),
                                        (config.sepToken, sepID), (config.maskToken, maskID)])
    }

    /// `[CLS]` + word pieces + `[SEP]`, at most `maxLength` ids (a `maxLength` under 2 counts as
    /// 2): like sentence-transformers' `truncation="longest_first"`, the word pieces past
    /// `maxLength - 2` are dropped and `[SEP]` stays last.
    public func encode(_ text: String, maxLength: Int) -> TokenEncoding {
        let pieces = wordPieces(text)
        let keep = max(maxLength, 2) - 2
        var ids: [Int32] = []
        ids.reserveCapacity(min(pieces.count, keep) + 2)
        ids.append(clsID)
        ids.append(contentsOf: pieces.prefix(keep))
        ids.append(sepID)
        return TokenEncoding(ids: ids, droppedPieces: max(0, pieces.count - keep))
    }

    /// The ids of the word pieces of `text`, untruncated and without `[CLS]` and `[SEP]`.
    public func wordPieces(_ text: String) -> [Int32] {
        let scalars = PythonWhitespace.stripped(Array(text.unicodeScalars))
        var ids: [Int32] = []
        var words = WordList()
        var scratch = WordPiece.Scratch()
        specials.split(scalars, text: { stretch in
            guard !stretch.isEmpty else { return }
            words.scalars.removeAll(keepingCapacity: true)
            words.ends.removeAll(keepingCapacity: true)
            basic.appendWords(of: stretch, to: &words)
            for index in 0..<words.count {
                wordPiece.appendPieces(of: words.scalars[words.range(index)], to: &ids, scratch: &scratch)
            }
        }, special: { ids.append($0) })
        return ids
    }
}

/// Python's `str.strip()` without arguments (sentence-transformers strips each text).
enum PythonWhitespace {
    /// The scalars `str.isspace()` accepts: category Zs, or bidirectional class WS, B or S.
    static func contains(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func stripped(_ scalars: [Unicode.Scalar]) -> ArraySlice<Unicode.Scalar> {
        guard let first = scalars.firstIndex(where: { !contains($0) }),
              let last = scalars.lastIndex(where: { !contains($0) }) else { return [] }
        return scalars[first...last]
    }
}
