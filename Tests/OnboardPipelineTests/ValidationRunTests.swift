import Foundation
import OnboardEval
import OnboardPipeline
import OnboardTestSupport
import XCTest

/// A validation run called from Swift: calibrate on synth_train, score synth_val in both precisions.
final class ValidationRunTests: XCTestCase {
    func test_validationWritesTheReportAndTheQuantizedBundle() throws {
        let set = try PipelineFixtures.petrAndSet()
        var options = ValidationOptions(model: set.model, data: set.data, calibration: set.data, out: "\(set.root)/validation")
        options.threads = 2
        options.diagnosisSamples = 1
        options.bootstrapReplicates = 0
        let lines = LogLines()
        let report = try ValidationRun.run(options, log: lines.log)
        XCTAssertEqual(report.split, "synth_val")
        XCTAssertEqual(report.sampleCount, 2)
        XCTAssertNil(report.dropInterval)
        XCTAssertTrue((0...1).contains(report.fp32.meanAP) && (0...1).contains(report.int8.meanAP))
        XCTAssertLessThan(report.weightsBytes.int8, report.weightsBytes.fp32)
        XCTAssertFalse(report.layers.isEmpty)
        XCTAssertEqual(report.suggestedExclusions.count, options.exclusionCandidates)
        for name in ["report.json", "index.html", ValidationRun.fp32Results, ValidationRun.int8Results,
                     "\(ValidationRun.int8Bundle)/quant.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(options.out)/\(name)"), name)
        }
        XCTAssertTrue(lines.text.contains("validate: recipe "), lines.text)
        XCTAssertTrue(lines.text.contains("(the kit's default; the bundle names none)"), lines.text)
        XCTAssertTrue(lines.text.contains("validate: calibration: 2/2"), lines.text)
        XCTAssertTrue(report.headline(out: options.out).contains("quantized bundle: \(options.out)/model-int8"))
    }

    func test_aWrongBundleIsRefusedBeforeAnyOutputIsMade() throws {
        let set = try PipelineFixtures.petrAndSet()
        let out = "\(set.root)/refused"
        let options = ValidationOptions(model: TestPaths.fixture("vit/cls_token"), data: set.data, calibration: set.data, out: out)
        XCTAssertThrowsError(try ValidationRun.run(options, log: .silent)) { error in
            XCTAssertTrue("\(error)".contains("not a PETR bundle"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func test_calibrationSamplesAreSpreadOverTheSplit() {
        XCTAssertEqual(ValidationCalibration.spread(Array(0..<10), count: 3), [0, 3, 6])
        XCTAssertEqual(ValidationCalibration.spread(Array(0..<4), count: 9), [0, 1, 2, 3])
    }
}
