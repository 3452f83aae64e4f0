import OnboardCore
import OnboardTestSupport
import XCTest

final class FilePathsTests: XCTestCase {
    /// NSString's definition (except "//", the root here), on the paths its Linux build traps on ("q", ".", "a/").
    func test_parentMatchesDeletingLastPathComponent() {
        let cases: [(String, String)] = [
            ("q", ""), (".", ""), ("a/", ""), ("", ""), ("/", "/"), ("/q", "/"), ("a/b", "a"), ("a/b/", "a"),
            ("/a/b/c.json", "/a/b"), ("a//b", "a"), ("./q", "."), ("../q", ".."), ("//", "/"),
        ]
        for (path, parent) in cases { XCTAssertEqual(FilePaths.parent(of: path), parent, path) }
    }

    /// A one-character output name is an ordinary relative path, not a crash.
    func test_oneCharacterOutputsResolve() throws {
        XCTAssertEqual(try OutputPath.file("q"), "q")
        XCTAssertNoThrow(try StagingDirectory.check("q", force: false))
    }
}
