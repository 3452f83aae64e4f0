import OnboardCore
import OnboardEval
import OnboardSensors
import OnboardTestSupport
import XCTest

/// The results reader refuses what the devkit refuses, with messages naming the file and the box.
final class ResultsReaderTests: XCTestCase {
    static let directory = TestPaths.fixture("nuscenes-eval")

    func evaluate(_ results: String, split: String = "synth_val") throws -> MetricsSummary {
        try DetectionEvaluation.evaluate(dataroot: Self.directory + "/data", version: "v1.0-evalfix", split: split,
                                         resultsPath: results)
    }

    func assertRejects(_ results: String, mentioning parts: [String], line: UInt = #line) {
        XCTAssertThrowsError(try evaluate(results), line: line) { error in
            guard let error = error as? OnboardError else { return XCTFail("not an OnboardError: \(error)", line: line) }
            let message = error.description
            XCTAssertTrue(message.hasPrefix(results), "message '\(message)' does not start with the file", line: line)
            for part in parts { XCTAssertTrue(message.contains(part), "message '\(message)' lacks '\(part)'", line: line) }
        }
    }

    func test_missingSample_isRejectedNamingTheToken() throws {
        let path = Self.directory + "/invalid/results_missing_sample.json"
        let present = try XCTUnwrap(JSONValue.parse(file: path).object?["results"]?.object)
        let tables = try NuScenesTables(dataroot: Self.directory + "/data", version: "v1.0-evalfix")
        let split = try GroundTruth.sampleTokens(tables: tables, split: "synth_val")
        let missing = split.filter { present[$0] == nil }
        XCTAssertEqual(missing.count, 1)
        assertRejects(path, mentioning: ["missing sample token \(missing[0])", "1 of the split's 7 samples"])
    }

    func test_unknownClass_isRejectedNamingTheBox() {
        assertRejects(Self.directory + "/invalid/results_unknown_class.json",
                      mentioning: ["box 0", "unknown detection_name spaceship"])
    }

    func test_unknownAttribute_isRejectedNamingTheBox() {
        assertRejects(Self.directory + "/invalid/results_unknown_attribute.json",
                      mentioning: ["box 1", "unknown attribute_name vehicle.flying"])
    }

    func test_shortTranslation_isRejected() {
        assertRejects(Self.directory + "/invalid/results_short_translation.json",
                      mentioning: ["box 0", "`translation` must have 3 numbers"])
    }

    func test_fileWithoutResultsKey_isRejected() {
        assertRejects(Self.directory + "/invalid/results_no_results_key.json", mentioning: ["no field `results`"])
    }

    func test_moreThan500BoxesInASample_isRejected() throws {
        let box = #"{"sample_token":"s1","translation":[1,2,0],"size":[1,1,1],"rotation":[1,0,0,0],"velocity":[0,0],"detection_name":"car","detection_score":0.5,"attribute_name":""}"#
        let text = #"{"meta":{},"results":{"s1":["# + Array(repeating: box, count: 501).joined(separator: ",") + "]}}"
        let path = TestPaths.temporaryDirectory("eval-reader") + "/too_many.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ResultsReader.read(path: path)) { error in
            XCTAssertEqual((error as? OnboardError)?.description,
                           "\(path): sample s1: 501 boxes; at most 500 per sample are allowed")
        }
        let exactly500 = #"{"meta":{},"results":{"s1":["# + Array(repeating: box, count: 500).joined(separator: ",") + "]}}"
        try exactly500.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ResultsReader.read(path: path).boxesBySample["s1"]?.count, 500)
    }

    func test_boxFieldErrors_nameTheField() throws {
        func message(_ boxJSON: String) -> String {
            let bytes = Array(#"{"meta":{},"results":{"s1":["# .utf8) + Array(boxJSON.utf8) + Array("]}}".utf8)
            do {
                _ = try ResultsReader.read(bytes: bytes, path: "r.json")
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let good = #""sample_token":"s1","translation":[1,2,0],"rotation":[1,0,0,0],"velocity":[NaN,NaN],"detection_name":"car","attribute_name":"""#
        XCTAssertEqual(message("{\(good),\"size\":[1,1,1],\"detection_score\":0.5}"), "accepted")
        XCTAssertEqual(message("{\(good),\"size\":[1,0,1],\"detection_score\":0.5}"), "r.json: sample s1 box 0: `size` must be > 0")
        XCTAssertEqual(message("{\(good),\"size\":[1,1,1]}"), "r.json: sample s1 box 0: missing or non-finite `detection_score`")
        XCTAssertEqual(message("{\(good),\"size\":[1,1,1],\"detection_score\":NaN}"),
                       "r.json: sample s1 box 0: missing or non-finite `detection_score`")
        XCTAssertEqual(message("{\(good),\"size\":[1,\"a\",1],\"detection_score\":0.5}"),
                       "r.json: sample s1 box 0: `size` must have 3 numbers")
        XCTAssertEqual(message(#"{"sample_token":"s2"}"#), "r.json: sample s1 box 0: sample_token s2 differs from its results key")
    }

    func test_structureErrors_nameTheFileAndPart() {
        func message(_ text: String) -> String {
            do {
                _ = try ResultsReader.read(bytes: Array(text.utf8), path: "r.json")
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message(#"{"meta":{},"results":{"s1":[]}}"#), "accepted")
        XCTAssertEqual(message("[]"), "r.json: must be a JSON object with `meta` and `results`")
        XCTAssertEqual(message(#"{"meta":{},"results":[]}"#), "r.json: results: must be an object of sample token -> boxes, got an array")
        XCTAssertEqual(message(#"{"meta":{},"results":{"s1":{}}}"#), "r.json: sample s1: must be an array of boxes")
        XCTAssertEqual(message(#"{"results":{"s1":[]}}"#), "r.json: meta: missing or not an object (use_camera, use_lidar, ...)")
        XCTAssertEqual(message(#"{"meta":{},"results":{"s1":[1]}}"#), "r.json: sample s1 box 0: must be an object, got a number")
        XCTAssertTrue(message(#"{"meta":{},"results":{"s1":["#).hasPrefix("r.json: byte 28: invalid JSON"), message(#"{"meta":{},"results":{"s1":["#))
    }

    func test_extraSamplesOutsideTheSplit_areIgnored() throws {
        // results_perfect.json also holds the samples of scene c, which synth_one and synth_val exclude.
        let results = try ResultsReader.read(path: Self.directory + "/results_perfect.json")
        XCTAssertEqual(results.boxesBySample.count, 9)
        let tables = try NuScenesTables(dataroot: Self.directory + "/data", version: "v1.0-evalfix")
        let split = try GroundTruth.sampleTokens(tables: tables, split: "synth_one")
        XCTAssertEqual(try results.boxes(forSplit: split, path: "r").sampleTokens, split)
        XCTAssertEqual(split.count, 4)
    }

    /// devkit 1.2.0 loads every prediction for a predefined split name and refuses samples outside it.
    func test_extraSamplesOutsideAPredefinedSplit_areRefused() throws {
        let results = try ResultsReader.read(path: Self.directory + "/results_perfect.json")
        let tables = try NuScenesTables(dataroot: Self.directory + "/data", version: "v1.0-evalfix")
        let split = try GroundTruth.sampleTokens(tables: tables, split: "synth_val")
        XCTAssertEqual(results.outside(split: split).count, 2)
        XCTAssertEqual(try results.boxes(forSplit: split, named: "synth_val", path: "r").sampleTokens, split)
        XCTAssertThrowsError(try results.boxes(forSplit: split, named: "val", path: "r.json")) { error in
            let message = (error as? OnboardError)?.description ?? ""
            XCTAssertTrue(message.hasPrefix("r.json: results: sample token "), message)
            XCTAssertTrue(message.contains("is not in split 'val' (2 samples outside it)"), message)
        }
    }

    func test_unknownSplit_isRejectedNamingSplitsJSON() {
        XCTAssertThrowsError(try evaluate(Self.directory + "/results_perfect.json", split: "mini_val")) { error in
            let message = (error as? OnboardError)?.description ?? ""
            XCTAssertTrue(message.contains("splits.json: mini_val: no such split (have synth_one, synth_train, synth_val)"), message)
        }
    }

    func test_jsonParser_readsPythonTokensAndRejectsGarbage() throws {
        let value = try JSONValue.parse(bytes: Array(#"{"a":[NaN,-Infinity,Infinity,1e-3,"\u00e9\n"],"b":null,"c":true}"#.utf8), path: "x")
        let array = try XCTUnwrap(value.object?["a"]?.array)
        XCTAssertTrue(array[0].number?.isNaN ?? false)
        XCTAssertEqual(array[1].number, -.infinity)
        XCTAssertEqual(array[2].number, .infinity)
        XCTAssertEqual(array[3].number, 0.001)
        XCTAssertEqual(array[4].string, "é\n")
        XCTAssertEqual(value.object?["c"], .bool(true))
        for bad in [#"{"a":}"#, "[1,2", #"{"a":1} x"#, "nan", #""\q""#] {
            XCTAssertThrowsError(try JSONValue.parse(bytes: Array(bad.utf8), path: "bad.json"), bad) { error in
                XCTAssertTrue((error as? OnboardError)?.description.hasPrefix("bad.json: byte ") ?? false, "\(error)")
            }
        }
    }
}
