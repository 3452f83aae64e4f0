import Foundation
import OnboardCore
import OnboardEval
import OnboardModels
import OnboardPipeline
import OnboardSensors
import OnboardTestSupport
import XCTest

final class DetectionTests: XCTestCase {
    func test_detectionOverACameraSetIsTheSameOnOneOrTwoThreads() throws {
        let set = try PipelineFixtures.petrAndSet()
        var results: [Data] = []
        for threads in [1, 2] {
            let lines = LogLines()
            var request = CameraSetDetection.Request(model: set.model, data: set.data, out: "\(set.root)/results-\(threads).json")
            request.threads = threads
            let summary = try CameraSetDetection.run(request, log: lines.log)
            XCTAssertEqual(summary.samples, 4)
            XCTAssertGreaterThan(summary.boxes, 0)
            XCTAssertEqual(Set(summary.stageMs.keys), Set(DetectionStages.names + ["total"]))
            XCTAssertTrue(lines.text.contains("detect: 4/4"), lines.text)
            results.append(try XCTUnwrap(FileManager.default.contents(atPath: request.out)))
        }
        XCTAssertEqual(results[0], results[1])
        let read = try ResultsReader.read(path: "\(set.root)/results-1.json")
        XCTAssertEqual(read.boxesBySample.count, 4)
    }

    func test_aSplitLimitsTheSamplesAndPipelineFramesCarryBoxes() throws {
        let set = try PipelineFixtures.petrAndSet()
        var request = CameraSetDetection.Request(model: set.model, data: set.data, out: "\(set.root)/val.json")
        request.split = "synth_val"
        XCTAssertEqual(try CameraSetDetection.run(request, log: .silent).samples, 2)

        let pipeline = try DetectionPipeline(bundle: try ModelBundle(directory: set.model), threads: 2)
        let tables = try NuScenesTables(dataroot: set.data, version: "v1.0-synth")
        let sample = try pipeline.reader(tables: tables).sample(tables.sample.records[0].token)
        let frame = try pipeline.detect(sample, source: "test")
        XCTAssertEqual(frame.boxes.count, frame.outputs.detections.count)
        // The submission keeps the boxes within their class's range, as the devkit's filter does.
        XCTAssertLessThanOrEqual(frame.submission.count, frame.boxes.count)
        XCTAssertFalse(frame.submission.isEmpty)
    }

    func test_int8DetectionNeedsAQuantizedBundle() throws {
        let set = try PipelineFixtures.petrAndSet()
        var request = CameraSetDetection.Request(model: set.model, data: set.data, out: "\(set.root)/int8.json")
        request.precision = .int8
        XCTAssertThrowsError(try CameraSetDetection.run(request, log: .silent)) { error in
            XCTAssertTrue("\(error)".contains("needs a quantized bundle"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: request.out))
    }

    func test_aQuantizedBundleDetectsInInt8Only() throws {
        let set = try PipelineFixtures.petrAndSet()
        var options = ValidationOptions(model: set.model, data: set.data, calibration: set.data, out: "\(set.root)/quantized")
        (options.calibrationSamples, options.diagnosisSamples, options.bootstrapReplicates, options.exclusionCandidates) = (1, 0, 0, 0)
        _ = try ValidationRun.run(options, log: .silent)
        let quantized = try ModelBundle(directory: "\(options.out)/\(ValidationRun.int8Bundle)")
        XCTAssertThrowsError(try DetectionPipeline(bundle: quantized, precision: .fp32, threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("a quantized bundle detects in int8 precision"), "\(error)")
        }
        XCTAssertNoThrow(try DetectionPipeline(bundle: quantized, precision: .int8, threads: 1))
    }

    func test_graphNodesMapToTheirStages() {
        XCTAssertEqual(DetectionStages.stage(ofNode: "img_backbone.blocks.0.attn"), "backbone")
        XCTAssertEqual(DetectionStages.stage(ofNode: "img_neck.fpn"), "backbone")
        XCTAssertEqual(DetectionStages.stage(ofNode: "pts_bbox_head.position_encoder.0"), "position_embedding")
        XCTAssertEqual(DetectionStages.stage(ofNode: "pts_bbox_head.transformer.decoder.layers.0"), "decoder")
    }
}
