import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// The names of the subdirectories of `folder` that hold a bundle (a `config.json`).
func bundleDirectories(in folder: String) throws -> Set<String> {
    Set(try FileManager.default.contentsOfDirectory(atPath: folder).filter {
        FileManager.default.fileExists(atPath: "\(folder)/\($0)/config.json")
    })
}

/// Runs a classifier fixture (a bundle with inputs.safetensors and expected.safetensors) on 1 and
/// 2 threads and checks every expected output (`logits`, `pre_logits`) to max |error| <= 1e-4 x
/// max |expected|; a model without a head has its features as `logits` only.
func assertClassifierFixtureMatches(_ directory: String, name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let bundle = try ModelBundle(directory: directory)
    let pixels = try SafeTensorsFile(path: "\(directory)/inputs.safetensors").tensor("pixel_values")
    let expected = try SafeTensorsFile(path: "\(directory)/expected.safetensors")
    let batch = try bundle.batchSize(for: ["pixel_values": pixels.shape], source: directory)
    for threads in [1, 2] {
        let outputs = try FP32Executor(graph: try bundle.graph(batch: batch, exposePreLogits: true), threads: threads)
            .run(["pixel_values": pixels])
        for key in ["logits", "pre_logits"] where expected.contains(key) {
            let reference = try expected.tensor(key)
            let actual = try XCTUnwrap(outputs[key] ?? outputs["logits"], "\(name): no \(key)", file: file, line: line)
            XCTAssertEqual(actual.shape, reference.shape, "\(name) \(key)", file: file, line: line)
            let (error, magnitude) = maxErrors(actual.floats(), reference.floats())
            XCTAssertLessThanOrEqual(error, 1e-4 * magnitude, "\(name) \(key) threads \(threads)", file: file, line: line)
            XCTAssertGreaterThan(magnitude, 0.1, "\(name) \(key): degenerate reference", file: file, line: line)
        }
    }
}
