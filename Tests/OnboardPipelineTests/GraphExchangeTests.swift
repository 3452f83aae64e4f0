import Foundation
import OnboardCore
import OnboardModels
import OnboardPipeline
import OnboardTestSupport
import XCTest

final class GraphExchangeTests: XCTestCase {
    private func detect(_ set: PipelineFixtures.Set, model: String? = nil, precision: Precision = .fp32, out: String,
                        exchange: GraphExchange? = nil) throws -> Data {
        var request = CameraSetDetection.Request(model: model ?? set.model, data: set.data, out: out)
        (request.precision, request.threads, request.exchange) = (precision, 2, exchange)
        _ = try CameraSetDetection.run(request, log: .silent)
        return try XCTUnwrap(FileManager.default.contents(atPath: out))
    }

    func test_recordedGraphOutputsReplayToTheSameResults() throws {
        let set = try PipelineFixtures.petrAndSet()
        let recorded = "\(set.root)/exchange-fp32"
        let direct = try detect(set, out: "\(set.root)/exchange-direct.json", exchange: .record(directory: recorded))
        let files = try FileManager.default.contentsOfDirectory(atPath: recorded).filter { $0.hasSuffix(".safetensors") }
        XCTAssertEqual(files.count, 4)
        let file = try SafeTensorsFile(path: "\(recorded)/\(try XCTUnwrap(files.first))")
        XCTAssertEqual(Set(file.names), ["images", "coords3d", "lidar2img", "cls_scores", "bbox_raw", "pos_embed", "memory"])
        XCTAssertEqual(file.entry("images")?.dtype, .f32)
        XCTAssertEqual(file.metadata["sample_token"].map { $0 + ".safetensors" }, file.path.components(separatedBy: "/").last)

        let replayed = try detect(set, out: "\(set.root)/exchange-replayed.json", exchange: .replay(directory: recorded))
        XCTAssertEqual(replayed, direct)
        // Replayed outputs that differ give other boxes: the graph is really not run.
        let path = "\(recorded)/\(files[0])"
        var tensors = try SafeTensorsFile(path: path).allTensors()
        let scores = try XCTUnwrap(tensors["cls_scores"]).copied()
        for i in 0..<scores.count { scores.floatPointer[i] = -scores.floatPointer[i] }
        tensors["cls_scores"] = scores
        try SafeTensorsWriter.write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: path)
        XCTAssertNotEqual(try detect(set, out: "\(set.root)/exchange-changed.json", exchange: .replay(directory: recorded)), direct)
    }

    func test_recordingDoesNotChangeInt8Detections() throws {
        let set = try PipelineFixtures.petrAndSet()
        let quantized = try PipelineFixtures.quantizedPETR(set, name: "exchange-quantized", calibrationSamples: 2)
        let pipeline = try DetectionPipeline(bundle: try ModelBundle(directory: quantized), precision: .int8, threads: 1)
        XCTAssertNotNil(pipeline.model.imageQuantization, "the INT8 runner takes the image as codes")
        // Recorded, the INT8 runner quantizes the float image itself instead of taking codes from tables.
        let plain = try detect(set, model: quantized, precision: .int8, out: "\(set.root)/exchange-int8.json")
        let recorded = try detect(set, model: quantized, precision: .int8, out: "\(set.root)/exchange-int8-recorded.json",
                                  exchange: .record(directory: "\(set.root)/exchange-int8"))
        XCTAssertEqual(plain, recorded)
    }

    func test_replayNamesTheFileAndTensorItCannotUse() throws {
        let set = try PipelineFixtures.petrAndSet()
        let recorded = "\(set.root)/exchange-bad"
        _ = try detect(set, out: "\(set.root)/exchange-bad.json", exchange: .record(directory: recorded))
        let files = try FileManager.default.contentsOfDirectory(atPath: recorded).filter { $0.hasSuffix(".safetensors") }.sorted()
        let path = "\(recorded)/\(files[0])"
        let original = try SafeTensorsFile(path: path).allTensors()
        let out = "\(set.root)/exchange-refused.json"
        func refused(_ tensors: [String: Tensor], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
            try SafeTensorsWriter.write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: path)
            XCTAssertThrowsError(try detect(set, out: out, exchange: .replay(directory: recorded)), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), file: file, line: line)
        }
        var missing = original
        missing["bbox_raw"] = nil
        try refused(missing, "\(path): bbox_raw: missing")
        var reshaped = original
        let scores = try XCTUnwrap(original["cls_scores"])
        reshaped["cls_scores"] = Tensor(zeros: [1] + scores.shape)
        try refused(reshaped, "\(path): cls_scores: f32 [1, \(scores.shape.map(String.init).joined(separator: ", "))], the model's output is f32")
        var infinite = original
        let raw = try XCTUnwrap(original["bbox_raw"]).copied()
        raw.floatPointer[3] = .nan
        infinite["bbox_raw"] = raw
        try refused(infinite, "\(path): bbox_raw: element 3 is not finite")
        try FileManager.default.removeItem(atPath: path)
        XCTAssertThrowsError(try detect(set, out: out, exchange: .replay(directory: recorded))) { error in
            XCTAssertTrue("\(error)".contains("\(path): no graph outputs for sample"), "\(error)")
        }
    }

    func test_aRecordingReplacesOnlyWhatOnboardWrote() throws {
        let set = try PipelineFixtures.petrAndSet()
        let foreign = "\(set.root)/exchange-foreign"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: "\(foreign)/notes.txt"))
        XCTAssertThrowsError(try detect(set, out: "\(set.root)/exchange-foreign.json", exchange: .record(directory: foreign))) { error in
            XCTAssertTrue("\(error)".contains("holds files Onboard did not write"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: foreign), ["notes.txt"])
        XCTAssertThrowsError(try detect(set, out: "\(foreign)/results.json", exchange: .record(directory: foreign))) { error in
            XCTAssertTrue("\(error)".contains("record-graph holds the out input"), "\(error)")
        }
    }
}
