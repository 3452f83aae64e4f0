import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// The real all-MiniLM-L6-v2, read from its Hugging Face directory, against sentence-transformers
/// (tools/make_minilm_fixtures.py): the encoder and mean pooling on the tokenizer's own ids.
final class BertFixtureTests: XCTestCase {
    struct Reference {
        var embeddings: [[Float]]
        var ids: [[Int32]]
    }

    static func reference() throws -> Reference {
        let file = try SafeTensorsFile(path: TestPaths.fixture("text/minilm_reference.safetensors"))
        let embeddings = try file.tensor("embeddings"), lengths = try file.tensor("lengths"), flat = try file.tensor("input_ids")
        let width = embeddings.shape[1]
        let values = embeddings.floats()
        var ids: [[Int32]] = [], start = 0
        for i in 0..<lengths.count {
            let length = Int(lengths.element(at: i))
            ids.append((start..<start + length).map { Int32(flat.element(at: $0)) })
            start += length
        }
        return Reference(embeddings: (0..<lengths.count).map { Array(values[$0 * width..<($0 + 1) * width]) }, ids: ids)
    }

    func testHuggingFaceDirectoryLoadsAsBert() throws {
        let bundle = try ModelBundle(directory: try TestPaths.requireMiniLM())
        let config = try XCTUnwrap(bundle.model as? BertConfig)
        XCTAssertEqual([config.hiddenSize, config.numHiddenLayers, config.numAttentionHeads, config.intermediateSize], [384, 6, 12, 1536])
        XCTAssertFalse(config.approximateGELU)
        let sentence = try SentenceTransformerConfig.load(directory: bundle.directory, modelLength: config.maxPositionEmbeddings)
        XCTAssertEqual(sentence, SentenceTransformerConfig(pooling: .mean, normalize: true, maxSequenceLength: 256, doLowerCase: false))
    }

    func testFP32MatchesSentenceTransformers() throws {
        let bundle = try ModelBundle(directory: try TestPaths.requireMiniLM())
        let config = try XCTUnwrap(bundle.model as? BertConfig)
        let reference = try Self.reference()
        var worst: Float = 1
        for (ids, expected) in zip(reference.ids, reference.embeddings) {
            let start = Date()
            let graph = try config.graph(of: bundle, batch: 1, length: ids.count)
            let executor = try FP32Executor(graph: graph, threads: 2)
            let built = Date()
            let input = try Tensor(shape: [1, ids.count], dtype: .i32, integers: ids)
            let pooled = try XCTUnwrap(try executor.run([BertBuilder.inputName: input])[BertBuilder.outputName]).floats()
            print("length \(ids.count): build \(built.timeIntervalSince(start)) s, run \(Date().timeIntervalSince(built)) s")
            let norm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let cosine = zip(pooled, expected).reduce(0) { $0 + $1.0 * $1.1 } / norm
            worst = min(worst, cosine)
        }
        XCTAssertGreaterThanOrEqual(worst, 0.99999)
        print("worst cosine \(worst)")
    }
}
