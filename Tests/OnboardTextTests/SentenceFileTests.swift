import Foundation
import OnboardCore
import OnboardText
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
}
