import Foundation
import OnboardCore
import OnboardText
import OnboardTestSupport
import XCTest

final class SentenceFileTests: XCTestCase {
    func testLinesCRLFAndFinalLineWithoutNewline() throws {
        let sentences = try SentenceFile.parse(Data("a cat\r\nthe dog  \nlast".utf8), path: "s.txt")
        XCTAssertEqual(sentences, ["a cat", "the dog  ", "last"])
    }

    func testEmptyFileEmptyLineAndInvalidUTF8NameTheLine() {
        XCTAssertThrowsError(try SentenceFile.parse(Data(), path: "s.txt")) {
            XCTAssertEqual("\($0)", "s.txt: no sentences (the file is empty)")
        }
        XCTAssertThrowsError(try SentenceFile.parse(Data("one\n \ntwo\n".utf8), path: "s.txt")) {
            XCTAssertEqual("\($0)", "s.txt: line 2: empty line (each line is one sentence)")
        }
        XCTAssertThrowsError(try SentenceFile.parse(Data([0x61, 0x0A, 0x62, 0xFF, 0x0A]), path: "s.txt")) {
            XCTAssertEqual("\($0)", "s.txt: line 2: not valid UTF-8")
        }
    }

    func testReadFromDisk() throws {
        let directory = TestPaths.temporaryDirectory("sentences")
        let path = "\(directory)/s.txt"
        try Data("caf\u{E9} au lait\r\n\u{4E2D}\u{6587}\nno newline".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SentenceFile.read(path), ["caf\u{E9} au lait", "\u{4E2D}\u{6587}", "no newline"])
        try Data("ok\r\n\r\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SentenceFile.read(path)) {
            XCTAssertEqual("\($0)", "\(path): line 2: empty line (each line is one sentence)")
        }
        XCTAssertThrowsError(try SentenceFile.read("\(directory)/missing.txt")) { error in
            guard case let .io(errorPath, reason)? = error as? OnboardError else { return XCTFail("\(error)") }
            XCTAssertEqual(errorPath, "\(directory)/missing.txt")
            XCTAssertTrue(reason.hasPrefix("cannot read text file"), reason)
        }
    }
}
