import Foundation
import OnboardCore
import OnboardEval
import OnboardPipeline
import OnboardTestSupport
import XCTest

/// Sharded detect, validate and quantize, merged, give exactly what one run writes; merge refuses
/// parts that are not every shard of one run.
final class ShardingTests: XCTestCase {
    func test_shardsCoverEverySampleOnceInOrder() throws {
        for total in [0, 1, 5, 6, 7, 6019] {
            for count in [1, 2, 3, 4, 8, 10] {
                let items = Array(0..<total)
                let covered = try (0..<count).flatMap { try Shard(index: $0, count: count).slice(items) }
                XCTAssertEqual(covered, items, "\(total) samples in \(count) shards")
                let sizes = try (0..<count).map { try Shard(index: $0, count: count).range(of: total).count }
                XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), 1)
            }
        }
        XCTAssertEqual(try Shard(parsing: "2/4").range(of: 10), 5..<7)
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""] {
            XCTAssertThrowsError(try Shard(parsing: bad), bad)
        }
    }

    func test_shardedDetectionMergesIntoTheSingleRunsResultsByteForByte() throws {
        let set = try PipelineFixtures.petrAndSet()
        let root = TestPaths.temporaryDirectory("shard-detect")
        var single = CameraSetDetection.Request(model: set.model, data: set.data, out: "\(root)/single.json")
        single.threads = 2
        _ = try CameraSetDetection.run(single, log: .silent)
        // Three shards of 4 samples on 1 and 2 threads; merged in another order.
        let parts = try (0..<3).map { index -> String in
            var request = CameraSetDetection.Request(model: set.model, data: set.data, out: "\(root)/part-\(index)")
            (request.shard, request.threads) = (try Shard(index: index, count: 3), index % 2 + 1)
            _ = try CameraSetDetection.run(request, log: .silent)
            return request.out
        }
        let summary = try ShardMerge.run(parts: parts.reversed(), out: "\(root)/merged.json", log: .silent)
        XCTAssertEqual(summary.kind, .detect)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(root)/merged.json")),
                       try Data(contentsOf: URL(fileURLWithPath: single.out)))
        XCTAssertTrue(summary.lines[0].contains("4 samples"), summary.lines[0])
        XCTAssertEqual(summary.lines.filter { $0.contains("shard ") }.count, 3)

        assertRefused(try ShardMerge.run(parts: Array(parts.prefix(2)), out: "\(root)/m.json", log: .silent),
                      contains: "1 of 3 shards missing (2/3)")
        assertRefused(try ShardMerge.run(parts: parts + [parts[1]], out: "\(root)/m.json", log: .silent),
                      contains: "shard 1/3 is also")
        // A part of another run: detections with skip-bad set.
        var other = CameraSetDetection.Request(model: set.model, data: set.data, out: "\(root)/other-2")
        (other.shard, other.skipBad) = (try Shard(index: 2, count: 3), true)
        _ = try CameraSetDetection.run(other, log: .silent)
        assertRefused(try ShardMerge.run(parts: Array(parts.prefix(2)) + [other.out], out: "\(root)/m.json", log: .silent),
                      contains: "identity.settings.skip_bad: 'true' differs from")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(root)/m.json"))
    }

    func test_aRerunShardReplacesItsPartAndAnEditedPartIsRefused() throws {
        let set = try PipelineFixtures.petrAndSet()
        let root = TestPaths.temporaryDirectory("shard-rerun")
        var request = CameraSetDetection.Request(model: set.model, data: set.data, out: "\(root)/part-0")
        request.shard = try Shard(index: 0, count: 2)
        _ = try CameraSetDetection.run(request, log: .silent)
        _ = try CameraSetDetection.run(request, log: .silent)
        request.out = "\(root)/part-1"
        request.shard = try Shard(index: 1, count: 2)
        _ = try CameraSetDetection.run(request, log: .silent)
        let manifest = "\(root)/part-1/\(PartManifest.fileName)"
        var text = try String(contentsOfFile: manifest, encoding: .utf8)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let first = try XCTUnwrap((object["samples"] as? [String])?.first)
        text = text.replacingOccurrences(of: "\"\(first)\"", with: "\"not-a-sample\"")
        try Data(text.utf8).write(to: URL(fileURLWithPath: manifest))
        assertRefused(try ShardMerge.run(parts: ["\(root)/part-0", "\(root)/part-1"], out: "\(root)/m.json", log: .silent),
                      contains: "samples: the parts' slices do not make up the run's 4 samples")
        assertRefused(try ShardMerge.run(parts: [set.model], out: "\(root)/m.json", log: .silent),
                      contains: "part.json: missing: not a part written by a sharded run")
    }

    func test_shardedValidationMergesIntoTheSingleRunsResultsAndMetrics() throws {
        let set = try PipelineFixtures.petrAndSet()
        let root = TestPaths.temporaryDirectory("shard-validate")
        func options(_ out: String) -> ValidationOptions {
            var options = ValidationOptions(model: set.model, data: set.data, calibration: set.data, out: out)
            (options.split, options.threads, options.diagnosisSamples, options.bootstrapReplicates) = ("synth_val", 2, 1, 20)
            options.latencySamples = 1
            options.exclusionCandidates = 1
            return options
        }
        let single = try ValidationRun.run(options("\(root)/single"), log: .silent)
        var parts: [String] = []
        for index in 0..<3 {  // 2 samples in 3 shards: one shard's slice is empty.
            var shard = options("\(root)/part-\(index)")
            shard.threads = 1
            let summary = try ValidationShard.run(shard, shard: try Shard(index: index, count: 3), log: .silent)
            XCTAssertEqual(summary.of, 2)
            parts.append(shard.out)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(parts[0])/\(ValidationRun.int8Bundle)/quant.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(parts[1])/\(ValidationRun.int8Bundle)"))
        // Merged where the evaluation set lies elsewhere; a set whose tables changed is refused.
        let moved = "\(root)/moved-set", changed = "\(root)/changed-set"
        try FileManager.default.copyItem(atPath: set.data, toPath: moved)
        try FileManager.default.copyItem(atPath: set.data, toPath: changed)
        let table = "\(changed)/v1.0-synth/sample.json"
        try (try Data(contentsOf: URL(fileURLWithPath: table)) + Data(" ".utf8)).write(to: URL(fileURLWithPath: table))
        assertRefused(try ShardMerge.run(parts: parts, out: "\(root)/refused", inputs: .init(data: changed), log: .silent),
                      contains: "not the evaluation set the parts ran on")
        let out = "\(root)/merged"
        let summary = try ShardMerge.run(parts: parts, out: out, inputs: .init(data: moved), log: .silent)
        XCTAssertEqual(summary.kind, .validate)
        for name in [ValidationRun.fp32Results, ValidationRun.int8Results, "\(ValidationRun.int8Bundle)/quant.json",
                     "\(ValidationRun.int8Bundle)/model.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(name)")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(root)/single/\(name)")), name)
        }
        let merged = try ValidationReportWriter.read("\(out)/report.json")
        XCTAssertEqual(try metrics(merged.fp32), try metrics(single.fp32))
        XCTAssertEqual(try metrics(merged.int8), try metrics(single.int8))
        let encoder = ValidationReport.encoder()
        XCTAssertEqual(try encoder.encode(merged.dropInterval), try encoder.encode(single.dropInterval))
        XCTAssertNotNil(merged.dropInterval)
        XCTAssertEqual(merged.layers, single.layers)
        XCTAssertEqual(merged.suggestedExclusions.map(\.op), single.suggestedExclusions.map(\.op))
        XCTAssertEqual(merged.sampleCount, 2)
        XCTAssertEqual(merged.weightsBytes, single.weightsBytes)
        XCTAssertNil(single.machines)
        let machines = try XCTUnwrap(merged.machines)
        XCTAssertEqual(machines.map(\.shard), ["0/3", "1/3", "2/3"])
        XCTAssertEqual(machines.map(\.samples).reduce(0, +), 2)
        XCTAssertTrue(machines.allSatisfy { $0.threads == 1 && !$0.host.isEmpty })
        XCTAssertEqual(merged.latencyFrames, 2 * 2, "1 sample timed twice on each of the 2 shards that have samples")
        XCTAssertEqual(merged.peakMemoryBytes.int8, machines.map(\.peakMemoryBytes.int8).max())
        XCTAssertTrue(try String(contentsOfFile: "\(out)/report.md", encoding: .utf8).contains("Machines"))

        // Calibration sharded over the camera set gives the bundle validate made, and validating with
        // it instead of calibrating gives the same results.
        var quantize = BundleQuantization.Request(model: set.model, calibration: set.data, out: "")
        quantize.threads = 1
        var calibrationParts: [String] = []
        for index in 0..<2 {
            quantize.out = "\(root)/calibration-\(index)"
            try BundleQuantization.run(quantize, shard: try Shard(index: index, count: 2), log: .silent)
            calibrationParts.append(quantize.out)
        }
        _ = try ShardMerge.run(parts: calibrationParts, out: "\(root)/calibrated", log: .silent)
        for name in ["quant.json", "model.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(root)/calibrated/\(name)")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(root)/single/\(ValidationRun.int8Bundle)/\(name)")), name)
        }
        var given = options("\(root)/given")
        (given.quantized, given.calibration) = ("\(root)/calibrated", "")
        let again = try ValidationRun.run(given, log: .silent)
        XCTAssertEqual(try metrics(again.int8), try metrics(single.int8))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(root)/given/\(ValidationRun.int8Results)")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(root)/single/\(ValidationRun.int8Results)")))
    }

    func test_shardedCalibrationMergesIntoTheSingleRunsBundle() throws {
        let root = TestPaths.temporaryDirectory("shard-quantize")
        let model = TestPaths.fixture("vit/cls_token")
        let calibration = "\(root)/calibration"
        try FileManager.default.createDirectory(atPath: calibration, withIntermediateDirectories: true)
        let inputs = try SafeTensorsFile(path: "\(model)/inputs.safetensors")
        var random = SplitMix64(seed: 5)
        for i in 0..<5 {
            let tensors = try inputs.names.map { name -> (name: String, tensor: Tensor) in
                let tensor = try inputs.tensor(name)
                let copy = Tensor(zeros: tensor.shape)
                for j in 0..<tensor.count { copy.floatPointer[j] = tensor.floatPointer[j] * Float(0.5 + Double(i) / 4) + Float(random.nextUniform() - 0.5) }
                return (name, copy)
            }
            try SafeTensorsWriter.write(tensors, to: "\(calibration)/\(i).safetensors")
        }
        for recipe in ["int8-per-tensor", "int8-per-tensor-percentile"] {
            let recipePath = "\(TestPaths.root)/Configs/recipes/\(recipe).json"
            var single = BundleQuantization.Request(model: model, calibration: calibration, out: "\(root)/\(recipe)/single")
            (single.recipe, single.threads) = (recipePath, 2)
            try BundleQuantization.run(single, log: .silent)
            var parts: [String] = []
            for index in 0..<3 {
                var request = single
                (request.out, request.threads) = ("\(root)/\(recipe)/part-\(index)", 1)
                try BundleQuantization.run(request, shard: try Shard(index: index, count: 3), log: .silent)
                parts.append(request.out)
            }
            let out = "\(root)/\(recipe)/merged", movedModel = "\(root)/\(recipe)/moved-model"
            try FileManager.default.copyItem(atPath: model, toPath: movedModel)
            let summary = try ShardMerge.run(parts: parts, out: out, inputs: .init(model: movedModel), log: .silent)
            XCTAssertEqual(summary.kind, .quantize)
            for name in ["quant.json", "model.safetensors", "config.json"] {
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(name)")),
                               try Data(contentsOf: URL(fileURLWithPath: "\(single.out)/\(name)")), "\(recipe) \(name)")
            }
        }
    }

    /// The summary's JSON without `eval_time`, the one field that is a measurement (the devkit's too).
    private func metrics(_ summary: MetricsSummary) throws -> Data {
        var copy = summary
        copy.evalTime = 0
        return try ValidationReport.encoder().encode(copy)
    }

    private func assertRefused(_ body: @autoclosure () throws -> ShardMerge.Summary, contains text: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue(error is OnboardError, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(text), "\(error)", file: file, line: line)
        }
    }
}
