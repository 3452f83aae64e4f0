import Foundation
@testable import OnboardPipeline
import OnboardKit
import OnboardTestSupport
import XCTest

/// A fine-tuned variant of the real all-MiniLM-L6-v2 served from base + delta: the delta merged at
/// load gives exactly the embeddings of the weights `delta apply` writes, and a delta of another
/// base is refused with nothing merged.
final class SentenceDeltaTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("sentence-delta") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// A model directory beside the base: its files linked, model.safetensors = `weights` (a file
    /// path, linked, or tensors, written).
    func variant(_ name: String, base: String, weights: [(name: String, tensor: Tensor)] = [], file: String? = nil) throws -> String {
        let dir = "\(directory)/\(name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for entry in try FileManager.default.contentsOfDirectory(atPath: base) where entry != "model.safetensors" {
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/\(entry)", withDestinationPath: "\(base)/\(entry)")
        }
        if let file {
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/model.safetensors", withDestinationPath: file)
        } else {
            try SafeTensorsWriter.write(weights, to: "\(dir)/model.safetensors")
        }
        return dir
    }

    /// The base with layer 0's query weight and 40 word-embedding rows moved (int64 position ids kept).
    func tuned(_ base: SafeTensorsFile) throws -> [(name: String, tensor: Tensor)] {
        var random = TestRandom(seed: 31)
        return try base.entries.map { entry in
            let tensor = base.tensor(entry)
            switch entry.name {
            case "encoder.layer.0.attention.self.query.weight":
                return (entry.name, try Tensor(shape: entry.shape, values: tensor.floats().map { $0 + random.generator.nextGaussian() * 0.01 }))
            case "embeddings.word_embeddings.weight":
                var values = tensor.floats()
                for i in (2000 * 384)..<(2040 * 384) { values[i] += random.generator.nextGaussian() * 0.02 }
                return (entry.name, try Tensor(shape: entry.shape, values: values))
            default:
                return (entry.name, tensor)
            }
        }
    }

    func testADeltaMergedAtLoadGivesTheAppliedWeightsEmbeddings() throws {
        let base = try TestPaths.requireMiniLM()
        let baseFile = try SafeTensorsFile(path: "\(base)/model.safetensors")
        let tunedDir = try variant("tuned", base: base, weights: try tuned(baseFile))
        let delta = "\(directory)/delta.safetensors"
        let report = try DeltaFile.compress(base: baseFile.path, finetuned: "\(tunedDir)/model.safetensors", ratio: 16, out: delta)
        XCTAssertGreaterThanOrEqual(report.ratio, 16)
        XCTAssertEqual(report.tensors.filter { $0.kind == "deltadq" }.map(\.name),
                       ["embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight"])
        XCTAssertEqual(report.tensors.first { $0.name == "embeddings.word_embeddings.weight" }?.changedRows, 40)
        _ = try DeltaFile.apply(base: baseFile.path, delta: delta, out: "\(directory)/applied.safetensors")
        let appliedDir = try variant("applied", base: base, file: "\(directory)/applied.safetensors")

        var served = try SentenceEncoder(directory: base)
        let merged = try served.apply(delta: delta)
        XCTAssertEqual(merged.tensors.count, 2)
        let materialised = try SentenceEncoder(directory: appliedDir), plain = try SentenceEncoder(directory: base)
        let ids = served.encode(try SentenceEmbeddingTests.evaluation(6)).ids
        let fp32 = { (graph: Graph) throws -> any GraphRunner in try FP32Executor(graph: graph, threads: 2) }
        let fromDelta = try SentenceEmbedding.embed(ids, encoder: served, batch: 4, runner: fp32)
        let fromFile = try SentenceEmbedding.embed(ids, encoder: materialised, batch: 4, runner: fp32)
        let fromBase = try SentenceEmbedding.embed(ids, encoder: plain, batch: 4, runner: fp32)
        XCTAssertEqual(fromDelta.floats(), fromFile.floats())
        XCTAssertLessThan(SentenceEmbeddingTests.cosines(fromDelta, fromBase).min() ?? 1, 0.99999)  // the variant really differs

        // The delta against the applied weights (another base): refused, nothing merged.
        var other = try SentenceEncoder(directory: appliedDir)
        XCTAssertThrowsError(try other.apply(delta: delta)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(delta): __metadata__.base_fingerprint: made from another base"), "\(error)")
        }
        XCTAssertTrue(other.bundle.weightOverrides.isEmpty)
    }
}
