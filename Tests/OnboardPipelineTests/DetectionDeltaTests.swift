import Foundation
import OnboardCore
import OnboardModels
import OnboardPipeline
import OnboardQuant
import OnboardTestSupport
import XCTest

/// A detector variant served from base + delta: detection and INT8 quantization of the delta merged
/// at load are those of the bundle `delta apply` materialises, and a quantized base takes no delta.
final class DetectionDeltaTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("detection-delta") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// The fixture PETR with its first decoder layer and input projection fine-tuned (noise added),
    /// its 4x delta (the fixture is too small for file headers to leave room at 16x), and the bundle `delta apply` writes from it.
    func variant(of base: String) throws -> (delta: String, applied: String) {
        let baseFile = try SafeTensorsFile(path: "\(base)/model.safetensors")
        var random = TestRandom(seed: 41)
        let tuned = try baseFile.entries.map { entry -> (String, Tensor) in
            let tensor = baseFile.tensor(entry)
            let changed = entry.name.contains("decoder.layers.0.") || entry.name.contains("input_proj")
            guard changed, tensor.dtype.isFloat else { return (entry.name, tensor) }
            return (entry.name, try Tensor(shape: entry.shape, values: tensor.floats().map { $0 + random.generator.nextGaussian() * 0.02 }))
        }
        try SafeTensorsWriter.write(tuned, to: "\(directory)/tuned.safetensors")
        let delta = "\(directory)/delta.safetensors"
        let report = try DeltaFile.compress(base: baseFile.path, finetuned: "\(directory)/tuned.safetensors", ratio: 4, out: delta)
        XCTAssertGreaterThanOrEqual(report.ratio, 4)
        XCTAssertTrue(report.tensors.contains { $0.kind == "deltadq" && $0.name.contains("input_proj") })
        let applied = "\(directory)/applied"
        try FileManager.default.createDirectory(atPath: applied, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(base)/config.json", toPath: "\(applied)/config.json")
        _ = try DeltaFile.apply(base: baseFile.path, delta: delta, out: "\(applied)/model.safetensors")
        return (delta, applied)
    }

    func test_detectionAndQuantizationOfBasePlusDeltaAreThoseOfTheAppliedBundle() throws {
        let set = try PipelineFixtures.petrAndSet()
        let (delta, applied) = try variant(of: set.model)
        func detect(_ model: String, delta: String?, out: String) throws -> Data {
            var request = CameraSetDetection.Request(model: model, data: set.data, out: "\(directory)/\(out)")
            (request.threads, request.delta) = (2, delta)
            _ = try CameraSetDetection.run(request, log: .silent)
            return try XCTUnwrap(FileManager.default.contents(atPath: request.out))
        }
        let merged = try detect(set.model, delta: delta, out: "merged.json")
        XCTAssertEqual(merged, try detect(applied, delta: nil, out: "applied.json"))
        XCTAssertNotEqual(merged, try detect(set.model, delta: nil, out: "base.json"))

        func quantize(_ model: String, delta: String?, out: String) throws -> String {
            var request = BundleQuantization.Request(model: model, calibration: set.data, out: "\(directory)/\(out)")
            (request.threads, request.calibrationSamples, request.delta) = (2, 2, delta)
            try BundleQuantization.run(request, log: .silent)
            return request.out
        }
        let mergedInt8 = try quantize(set.model, delta: delta, out: "merged-int8")
        let appliedInt8 = try quantize(applied, delta: nil, out: "applied-int8")
        XCTAssertEqual(FileManager.default.contents(atPath: "\(mergedInt8)/quant.json"), FileManager.default.contents(atPath: "\(appliedInt8)/quant.json"))
        let a = try SafeTensorsFile(path: "\(mergedInt8)/model.safetensors"), b = try SafeTensorsFile(path: "\(appliedInt8)/model.safetensors")
        XCTAssertEqual(a.names.sorted(), b.names.sorted())
        for name in a.names {
            XCTAssertEqual(try a.tensor(name).floats(), try b.tensor(name).floats(), name)
        }

        var request = CameraSetDetection.Request(model: mergedInt8, data: set.data, out: "\(directory)/refused.json")
        (request.precision, request.delta) = (.int8, delta)
        XCTAssertThrowsError(try CameraSetDetection.run(request, log: .silent)) { error in
            XCTAssertTrue("\(error)".contains("is quantized; merge the delta into its float bundle instead"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: request.out))
    }

    func test_aDeltaOfAnotherModelIsRefusedBeforeAnyWork() throws {
        let set = try PipelineFixtures.petrAndSet()
        let (delta, _) = try variant(of: set.model)
        // The fine-tuned bundle itself is not the base the delta was made from.
        let other = "\(directory)/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(set.model)/config.json", toPath: "\(other)/config.json")
        try FileManager.default.copyItem(atPath: "\(directory)/tuned.safetensors", toPath: "\(other)/model.safetensors")
        var request = CameraSetDetection.Request(model: other, data: set.data, out: "\(directory)/other.json")
        request.delta = delta
        XCTAssertThrowsError(try CameraSetDetection.run(request, log: .silent)) { error in
            XCTAssertTrue("\(error)".contains("base_fingerprint: made from another base"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: request.out))
    }
}
