import Foundation
import OnboardCore
@testable import OnboardEval
import OnboardSensors
import OnboardTestSupport
import XCTest

/// A spooled submission is the file `ResultsWriter` writes from the same boxes, byte for byte,
/// whatever order the samples come in.
final class SubmissionSpoolTests: XCTestCase {
    func box(_ token: String, score: Double, x: Double) -> SubmissionBox { submissionBox(token, score: score, x: x) }

    func test_aSpooledSubmissionIsTheWrittenOneByteForByte() throws {
        let results = ["c-token": [box("c-token", score: 0.75, x: 67003.83283525819), box("c-token", score: 1e-9, x: -3)],
                       "a-token": [box("a-token", score: 0.1, x: 0)], "empty": [], "b-token": [box("b-token", score: 0.5, x: 2)]]
        let directory = TestPaths.temporaryDirectory()
        let spooled = try SubmissionSpool(path: directory + "/spooled.json")
        for token in ["c-token", "empty", "a-token", "b-token"] { try spooled.append(token, results[token] ?? []) }
        // A sample run again replaces its boxes.
        try spooled.append("b-token", [])
        try spooled.append("b-token", results["b-token"] ?? [])
        XCTAssertEqual(spooled.sampleCount, 4)
        XCTAssertEqual(spooled.boxCount, 4)
        try spooled.write()
        try ResultsWriter.write(results, to: directory + "/written.json")
        let written = try XCTUnwrap(FileManager.default.contents(atPath: directory + "/written.json"))
        XCTAssertEqual(FileManager.default.contents(atPath: spooled.path), written)
        // The spool's own file was unlinked when it was made: only the two results are there.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["spooled.json", "written.json"])
    }

    func test_aNonFiniteNumberIsRefusedWhenItsSampleComes() throws {
        let path = TestPaths.temporaryDirectory() + "/results.json"
        let spool = try SubmissionSpool(path: path)
        try spool.append("ok", [box("ok", score: 0.5, x: 1)])
        XCTAssertThrowsError(try spool.append("t", [box("t", score: .nan, x: 0)])) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(path) && message.contains("sample t"), message)
        }
        XCTAssertEqual(spool.sampleCount, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
