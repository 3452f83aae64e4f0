import Foundation
import OnboardCore
@testable import OnboardText
import OnboardTestSupport
import XCTest

/// The Swift tokenizer against the Hugging Face fast tokenizer of the real all-MiniLM-L6-v2
/// (Tests/Fixtures/text, written by tools/make_tokenizer_fixtures.py).
final class TokenizerFixtureTests: XCTestCase {
    struct Cases: Decodable {
        struct Case: Decodable {
            var name: String
            var text: String
            var ids: [Int32]
            var dropped: Int
        }
        var max_length: Int
        var cases: [Case]
    }

    struct Scalars: Decodable {
        var block: Int
        var crc32: [String]
    }

    static func loadCases() throws -> Cases {
        let path = TestPaths.fixture("text/tokenizer_cases.json")
        return try JSONInput.decode(Cases.self, from: try InputFile.read(path), path: path)
    }

    func testEveryFixtureCaseGivesTheFastTokenizersIDs() throws {
        let tokenizer = try WordPieceTokenizer(directory: try TestPaths.requireMiniLM())
        XCTAssertEqual(tokenizer.vocabularySize, 30522)
        XCTAssertEqual([tokenizer.padID, tokenizer.unkID, tokenizer.clsID, tokenizer.sepID], [0, 100, 101, 102])
        let fixture = try Self.loadCases()
        XCTAssertEqual(fixture.max_length, 256)
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 100)
        var truncated = 0
        for item in fixture.cases {
            let encoding = tokenizer.encode(item.text, maxLength: fixture.max_length)
            XCTAssertEqual(encoding.ids, item.ids, "\(item.name): got \(tokens(encoding.ids, tokenizer)), expected \(tokens(item.ids, tokenizer))")
            XCTAssertEqual(encoding.droppedPieces, item.dropped, item.name)
            if item.dropped > 0 {
                truncated += 1
                XCTAssertEqual(encoding.ids.count, 256, item.name)
                XCTAssertEqual(encoding.ids.last, tokenizer.sepID, item.name)
            }
        }
        XCTAssertGreaterThanOrEqual(truncated, 5)
    }

    func testShorterMaxLengthCutsPiecesAndKeepsSEPLast() throws {
        let tokenizer = try WordPieceTokenizer(directory: try TestPaths.requireMiniLM())
        let fixture = try Self.loadCases()
        let item = try XCTUnwrap(fixture.cases.first { $0.name == "plain_subwords" })
        let pieces = Array(item.ids.dropFirst().dropLast())
        XCTAssertEqual(pieces.count, 24)
        XCTAssertEqual(tokenizer.wordPieces(item.text), pieces)
        for maxLength in [5, 25, 26, 27] {
            let encoding = tokenizer.encode(item.text, maxLength: maxLength)
            let keep = min(pieces.count, maxLength - 2)
            XCTAssertEqual(encoding, TokenEncoding(ids: [101] + pieces.prefix(keep) + [102], droppedPieces: pieces.count - keep),
                           "maxLength \(maxLength)")
        }
        for maxLength in [2, 1, 0, -3] {
            XCTAssertEqual(tokenizer.encode(item.text, maxLength: maxLength), TokenEncoding(ids: [101, 102], droppedPieces: 24))
        }
    }

    /// Every Unicode scalar c, as "a" + c + "b" and "a" + U+1D16D + c + "b" (canonical
    /// reordering), through the normalizer and pre-tokenizer: one CRC-32 per block of code points.
    func testNormalizerAndPreTokenizerMatchOnEveryScalar() throws {
        let path = TestPaths.fixture("text/tokenizer_scalars.json")
        let fixture = try JSONInput.decode(Scalars.self, from: try InputFile.read(path), path: path)
        XCTAssertEqual(fixture.block * fixture.crc32.count, 0x110000)
        let basic = BasicTokenizer(handleChineseChars: true, stripAccents: true, lowercase: true)
        let mark = Unicode.Scalar(0x1D16D)!
        var words = WordList()
        func append(_ scalars: [Unicode.Scalar], to line: inout [UInt8]) {
            words.scalars.removeAll(keepingCapacity: true)
            words.ends.removeAll(keepingCapacity: true)
            basic.appendWords(of: scalars, to: &words)
            for index in 0..<words.count {
                if index > 0 { line.append(UInt8(ascii: "|")) }
                for (offset, scalar) in words.scalars[words.range(index)].enumerated() {
                    if offset > 0 { line.append(UInt8(ascii: ".")) }
                    line.append(contentsOf: String(scalar.value, radix: 16, uppercase: true).utf8)
                }
            }
        }
        var mismatches: [String] = []
        var text: [UInt8] = []
        for (block, expected) in fixture.crc32.enumerated() {
            text.removeAll(keepingCapacity: true)
            for value in UInt32(block * fixture.block)..<UInt32((block + 1) * fixture.block) {
                guard let scalar = Unicode.Scalar(value) else { continue }
                text.append(contentsOf: String(value, radix: 16, uppercase: true).utf8)
                text.append(UInt8(ascii: "\t"))
                append(["a", scalar, "b"], to: &text)
                text.append(UInt8(ascii: "\t"))
                append(["a", mark, scalar, "b"], to: &text)
                text.append(UInt8(ascii: "\n"))
            }
            let crc = String(CRC32.checksum(text), radix: 16)
            if String(repeating: "0", count: 8 - crc.count) + crc != expected {
                mismatches.append(String(format: "U+%04X...U+%04X", block * fixture.block, (block + 1) * fixture.block - 1))
            }
        }
        XCTAssertEqual(mismatches, [], "blocks that differ from the fast tokenizer (diff with tools/make_tokenizer_fixtures.py --dump-scalars)")
    }

    private func tokens(_ ids: [Int32], _ tokenizer: WordPieceTokenizer) -> String {
        ids.map { tokenizer.vocabulary.token($0) ?? "#\($0)" }.joined(separator: " ")
    }
}

/// CRC-32 (IEEE, as zlib.crc32).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index -> UInt32 in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
