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
        let quantized = try ModelBundle(directory: try PipelineFixtures.quantizedPETR(set, name: "quantized"))
        XCTAssertThrowsError(try DetectionPipeline(bundle: quantized, precision: .fp32, threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("a quantized bundle detects in int8 precision"), "\(error)")
        }
        XCTAssertNoThrow(try DetectionPipeline(bundle: quantized, precision: .int8, threads: 1))
    }

    func test_aQuantizedBundleStoresTheAttentionInProjectionsAsCodes() throws {
        let set = try PipelineFixtures.petrAndSet()
        let quantized = try PipelineFixtures.quantizedPETR(set, name: "stacked")
        let file = try SafeTensorsFile(path: "\(quantized)/model.safetensors")
        // Layer 0's attentions read the decoder's constant first query: part of each stack is
        // computed once from constants, so those stay in float.
        let projections = file.entries.filter { $0.name.hasSuffix("in_proj_weight") }
        XCTAssertEqual(projections.filter { $0.dtype == .i8 }.map(\.name), projections.filter { !$0.name.contains("layers.0.") }.map(\.name))
        XCTAssertFalse(projections.filter { $0.dtype == .i8 }.isEmpty)
        for entry in projections where entry.dtype == .i8 {
            XCTAssertEqual(file.entry(entry.name + ".qscale")?.shape, [entry.shape[0]], entry.name)
        }

        // The bundle as it was written before, projections in float: the executor quantizes them
        // itself with the recipe, to the same codes, and detects the same boxes.
        let floatFile = try SafeTensorsFile(path: "\(set.model)/model.safetensors")
        let isProjection = { (name: String) in name.hasSuffix("in_proj_weight") || name.hasSuffix("in_proj_weight.qscale") }
        let tensors = try file.entries.filter { !isProjection($0.name) }.map { ($0.name, file.tensor($0)) }
            + floatFile.entries.filter { $0.name.hasSuffix("in_proj_weight") }.map { ($0.name, floatFile.tensor($0)) }
        let floatProjections = "\(set.root)/float-projections"
        try FileManager.default.createDirectory(atPath: floatProjections, withIntermediateDirectories: true)
        for name in ["config.json", QuantizedBundle.planFile] {
            try FileManager.default.copyItem(atPath: "\(quantized)/\(name)", toPath: "\(floatProjections)/\(name)")
        }
        try SafeTensorsWriter.write(tensors, metadata: file.metadata, to: "\(floatProjections)/model.safetensors")
        var results: [Data] = []
        for model in [quantized, floatProjections] {
            var request = CameraSetDetection.Request(model: model, data: set.data, out: "\(model).json")
            request.precision = .int8
            _ = try CameraSetDetection.run(request, log: .silent)
            results.append(try XCTUnwrap(FileManager.default.contents(atPath: request.out)))
        }
        XCTAssertEqual(results[0], results[1])
    }

    func test_graphNodesMapToTheirStages() {
        XCTAssertEqual(DetectionStages.stage(ofNode: "img_backbone.blocks.0.attn"), "backbone")
        XCTAssertEqual(DetectionStages.stage(ofNode: "img_neck.fpn"), "backbone")
        XCTAssertEqual(DetectionStages.stage(ofNode: "pts_bbox_head.position_encoder.0"), "position_embedding")
        XCTAssertEqual(DetectionStages.stage(ofNode: "pts_bbox_head.transformer.decoder.layers.0"), "decoder")
    }
}
