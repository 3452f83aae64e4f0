import Foundation
import OnboardCore
@testable import OnboardEval
import OnboardSensors
import OnboardTestSupport
import XCTest

/// The submission writer's JSON parses to exactly the boxes it was given (numbers round-trip,
/// strings are escaped), with sorted keys, and refuses a non-finite number naming the file.
final class ResultsWriterTests: XCTestCase {
    func box(_ token: String, score: Double, x: Double) -> SubmissionBox { submissionBox(token, score: score, x: x) }

    func test_writtenJSONParsesBackToTheSameBoxes() throws {
        let results = ["b-token": [box("b-token", score: 0.75, x: 67003.83283525819), box("b-token", score: 1e-9, x: -3)],
                       "a-token": [box("a-token", score: 0.1, x: 0)], "empty": []]
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/results.json"
        try ResultsWriter.write(results, to: path)
        // Onboard's own reader (as `onboard eval` reads it): Foundation's parser rounds some doubles.
        let document = try XCTUnwrap(try JSONValue.parse(file: path).object)
        XCTAssertEqual(document["meta"], .object(ResultsWriter.cameraOnlyMeta.mapValues { .bool($0) }))
        let parsed = try XCTUnwrap(document["results"]?.object)
        XCTAssertEqual(Set(parsed.keys), Set(results.keys))
        func numbers(_ value: JSONValue?) -> [Double]? { value?.array?.compactMap(\.number) }
        for (token, boxes) in results {
            let objects = try XCTUnwrap(parsed[token]?.array)
            XCTAssertEqual(objects.count, boxes.count)
            for (value, box) in zip(objects, boxes) {
                let object = try XCTUnwrap(value.object)
                XCTAssertEqual(object["sample_token"]?.string, box.sampleToken)
                XCTAssertEqual(numbers(object["translation"]), [box.translation.x, box.translation.y, box.translation.z])
                XCTAssertEqual(numbers(object["size"]), [box.size.x, box.size.y, box.size.z])
                XCTAssertEqual(numbers(object["rotation"]), box.rotation.nuScenes)
                XCTAssertEqual(numbers(object["velocity"]), [box.velocity.x, box.velocity.y])
                XCTAssertEqual(object["detection_name"]?.string, box.detectionName)
                XCTAssertEqual(object["detection_score"]?.number, box.detectionScore)
                XCTAssertEqual(object["attribute_name"]?.string, box.attributeName)
            }
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // Keys in sorted order, as the devkit's own dumps and earlier Onboard files have them.
        let text = try XCTUnwrap(String(data: bytes, encoding: .utf8))
        XCTAssertTrue(text.hasPrefix("{\"meta\":{\"use_camera\":true,\"use_external\":false,"))
        XCTAssertLessThan(try XCTUnwrap(text.range(of: "\"a-token\"")).lowerBound, try XCTUnwrap(text.range(of: "\"b-token\"")).lowerBound)
    }

    func test_nonFiniteNumberIsRefusedNamingTheFileAndSample() throws {
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/results.json"
        XCTAssertThrowsError(try ResultsWriter.write(["t": [box("t", score: .nan, x: 0)]], to: path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(path) && message.contains("sample t"), message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}

/// A box whose numbers and strings test the writer: a long double, one next to a round value, a
/// tiny one, and an attribute with a quote, a backslash and a newline to escape.
func submissionBox(_ token: String, score: Double, x: Double) -> SubmissionBox {
    SubmissionBox(sampleToken: token, translation: SIMD3(x, -2.5e-7, 1), size: SIMD3(1.25, 4, 1.7000000000000002),
                  rotation: Quaternion(yaw: 0.3), velocity: SIMD2(-0.1, 0), detectionName: "car",
                  detectionScore: score, attributeName: "vehicle.\"parked\"\\\n")
}
