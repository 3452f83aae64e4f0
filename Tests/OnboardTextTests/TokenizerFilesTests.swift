import Foundation
import OnboardCore
import OnboardText
import OnboardTestSupport
import XCTest

/// vocab.txt and tokenizer_config.json: errors that name the file and the line or field, the
/// defaults, and how the config's switches change the tokens (on a small hand-made vocabulary).
final class TokenizerFilesTests: XCTestCase {
    static let smallVocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hello", "hello", "café", "cafe", "##s",
                                  "Σ", "σ", "!", "\u{03A9}", "\u{2126}", "中"]

    func directory(vocabulary: [String]? = smallVocabulary, vocabularyText: String? = nil, config: String? = nil) throws -> String {
        let directory = TestPaths.temporaryDirectory("tokenizer")
        if let text = vocabularyText ?? vocabulary.map({ $0.joined(separator: "\n") + "\n" }) {
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(directory)/vocab.txt"))
        }
        if let config {
            try Data(config.utf8).write(to: URL(fileURLWithPath: "\(directory)/tokenizer_config.json"))
        }
        return directory
    }

    func assertError(_ directory: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try WordPieceTokenizer(directory: directory), file: file, line: line) { error in
            XCTAssertTrue(error is OnboardError, "\(error)", file: file, line: line)
            XCTAssertEqual("\(error)", expected.replacingOccurrences(of: "DIR", with: directory), file: file, line: line)
        }
    }

    func testVocabularyErrorsNameTheFileAndLine() throws {
        let missing = try directory(vocabulary: nil)
        XCTAssertThrowsError(try WordPieceTokenizer(directory: missing)) { error in
            guard case let .io(path, reason)? = error as? OnboardError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "\(missing)/vocab.txt")
            XCTAssertTrue(reason.contains("No such file"), reason)
        }
        assertError(try directory(vocabularyText: ""), "DIR/vocab.txt: no tokens (the file is empty)")
        assertError(try directory(vocabularyText: "[PAD]\n[UNK]\nb\nb\n"), "DIR/vocab.txt: line 4: duplicate token \"b\" (also line 3)")
        assertError(try directory(vocabularyText: "[PAD]\n\n[UNK]\n"), "DIR/vocab.txt: line 2: empty token")
        let invalid = try directory(vocabulary: nil)
        try Data([0x61, 0x0A, 0x62, 0xC3, 0x0A]).write(to: URL(fileURLWithPath: "\(invalid)/vocab.txt"))
        assertError(invalid, "DIR/vocab.txt: line 2: not valid UTF-8")
        assertError(try directory(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[MASK]"]), "DIR/vocab.txt: no line holds the sep_token \"[SEP]\"")
    }

    func testConfigErrorsNameTheFileAndField() throws {
        assertError(try directory(config: #"{"do_lower_case": "yes"}"#),
                    "DIR/tokenizer_config.json: do_lower_case: wrong type (expected true or false)")
        assertError(try directory(config: #"{"strip_accents": 1}"#),
                    "DIR/tokenizer_config.json: strip_accents: wrong type (expected true or false)")
        assertError(try directory(config: #"{"tokenize_chinese_chars": [true]}"#),
                    "DIR/tokenizer_config.json: tokenize_chinese_chars: wrong type (expected true or false)")
        assertError(try directory(config: #"{"unk_token": 5}"#), "DIR/tokenizer_config.json: unk_token: wrong type (expected a string)")
        assertError(try directory(config: #"{"cls_token": {"content": 7}}"#),
                    "DIR/tokenizer_config.json: cls_token.content: wrong type (expected a string)")
        assertError(try directory(config: #"{"mask_token": ""}"#), "DIR/tokenizer_config.json: mask_token: empty token")
        assertError(try directory(config: #"{"do_basic_tokenize": false}"#),
                    "DIR/tokenizer_config.json: do_basic_tokenize: false is not supported (only the BERT basic tokenizer + WordPiece)")
        assertError(try directory(config: #"{"sep_token": "</s>"}"#), "DIR/vocab.txt: no line holds the sep_token \"</s>\"")
        assertError(try directory(config: "[1, 2]"), "DIR/tokenizer_config.json: wrong type (expected an object)")
        let broken = try directory(config: "{\"do_lower_case\": tru}")
        XCTAssertThrowsError(try WordPieceTokenizer(directory: broken)) { error in
            guard case let .format(path, _, reason)? = error as? OnboardError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "\(broken)/tokenizer_config.json")
            XCTAssertTrue(reason.hasPrefix("invalid JSON"), reason)
        }
    }

    func testMissingConfigMeansBertDefaults() throws {
        let tokenizer = try WordPieceTokenizer(directory: try directory())
        XCTAssertEqual(tokenizer.config, TokenizerConfig())
        XCTAssertEqual([tokenizer.padID, tokenizer.unkID, tokenizer.clsID, tokenizer.sepID], [0, 1, 2, 3])
        XCTAssertEqual(tokenizer.vocabularySize, 16)
        // Lowercase and strip accents; "Σ" lowercases to "σ" (no final-sigma rule).
        XCTAssertEqual(tokenizer.encode("Hello CAFÉS Σ!", maxLength: 256).ids, [2, 6, 8, 9, 11, 12, 3])
    }

    func testConfigSwitches() throws {
        let cased = try WordPieceTokenizer(directory: try directory(config: #"{"do_lower_case": false, "strip_accents": null}"#))
        XCTAssertEqual(cased.encode("Hello cafés Σ", maxLength: 256).ids, [2, 5, 7, 9, 10, 3])
        let casedStripped = try WordPieceTokenizer(directory: try directory(config: #"{"do_lower_case": false, "strip_accents": true}"#))
        XCTAssertEqual(casedStripped.encode("Hello cafés", maxLength: 256).ids, [2, 5, 8, 9, 3])
        let lowerKeepAccents = try WordPieceTokenizer(directory: try directory(config: #"{"do_lower_case": true, "strip_accents": false}"#))
        XCTAssertEqual(lowerKeepAccents.encode("HELLO CAFÉS", maxLength: 256).ids, [2, 6, 7, 9, 3])
        // Without CJK spacing "中中" is one word that WordPiece cannot split ("##中" is not a token).
        let noCJK = try WordPieceTokenizer(directory: try directory(config: #"{"tokenize_chinese_chars": false}"#))
        XCTAssertEqual(noCJK.encode("中中", maxLength: 256).ids, [2, 1, 3])
        let cjk = try WordPieceTokenizer(directory: try directory())
        XCTAssertEqual(cjk.encode("中中", maxLength: 256).ids, [2, 15, 15, 3])
    }

    func testSpecialTokensFromConfigAndAddedTokenObjects() throws {
        let vocabulary = ["<pad>", "<unk>", "<s>", "</s>", "<mask>", "hi"]
        let config = #"{"pad_token": "<pad>", "unk_token": {"content": "<unk>", "lstrip": false}, "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}"#
        let tokenizer = try WordPieceTokenizer(directory: try directory(vocabulary: vocabulary, config: config))
        XCTAssertEqual([tokenizer.padID, tokenizer.unkID, tokenizer.clsID, tokenizer.sepID], [0, 1, 2, 3])
        XCTAssertEqual(tokenizer.encode("hi<mask>ho</s>", maxLength: 256).ids, [2, 5, 4, 1, 3, 3])
    }

    func testVocabularyComparesBytesNotCanonicalEquivalence() throws {
        // U+2126 OHM SIGN is canonically equivalent to U+03A9 OMEGA: equal Swift Strings, distinct tokens.
        let vocabulary = try Vocabulary(parsing: Data(Self.smallVocabulary.joined(separator: "\r\n").utf8), path: "v.txt")
        XCTAssertEqual(vocabulary.count, 16)
        XCTAssertEqual(vocabulary.id(of: "\u{03A9}"), 13)
        XCTAssertEqual(vocabulary.id(of: "\u{2126}"), 14)
        XCTAssertEqual(vocabulary.id(of: "cafe\u{301}"), nil)
        XCTAssertEqual(vocabulary.id(of: "café"), 7)
        XCTAssertEqual(vocabulary.token(9), "##s")
        XCTAssertEqual(vocabulary.token(16), nil)
        XCTAssertEqual(vocabulary.token(-1), nil)
    }
}
