import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// The official PETR head (mirrored in tools/petr_reference.py; fixtures in Tests/Fixtures/petr
/// made by tools/make_petr_fixtures.py) reproduced to max |error| <= 1e-4 x max |value|: the 3D
/// coordinates, position embedding, memory, every decoder layer's class and box outputs, and the
/// decoded boxes (compared as sets keyed by (label, query): near-tied scores may swap ranks).
final class PETRFixtureTests: XCTestCase {
    static let cases = ["tiny_lid", "uid_copies_filtered", "vit_cpfpn_images"]
    static let tolerance: Float = 1e-4

    /// The committed fixtures at 1 and 2 threads, then any more fixture directories (e.g. the
    /// official-size `big256` case, too large to commit) given as `PETR_EXTRA_FIXTURES=DIR`, where DIR
    /// holds case directories made by make_petr_fixtures.py.
    func test_everyFixtureMatchesTheReference() throws {
        let root = TestPaths.fixture("petr")
        let present = try FileManager.default.contentsOfDirectory(atPath: root).filter {
            FileManager.default.fileExists(atPath: "\(root)/\($0)/config.json")
        }
        XCTAssertEqual(Set(present), Set(Self.cases), "fixture list out of date")
        for name in Self.cases {
            for threads in [1, 2] {
                let errors = try check(directory: "\(root)/\(name)", threads: threads)
                print("PETR fixture \(name) threads \(threads): \(describe(errors))")
            }
        }
        guard let extra = ProcessInfo.processInfo.environment["PETR_EXTRA_FIXTURES"] else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: extra).sorted()
        where FileManager.default.fileExists(atPath: "\(extra)/\(name)/config.json") {
            let errors = try check(directory: "\(extra)/\(name)", threads: Parallel.coreCount)
            print("PETR extra fixture \(name): \(describe(errors))")
        }
    }

    func describe(_ errors: [String: Float]) -> String {
        "relative max errors " + errors.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2e", $0.value))" }.joined(separator: ", ")
    }

    /// Runs one fixture and checks it; returns max |error| / max |reference| per tensor.
    @discardableResult
    func check(directory: String, threads: Int, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Float] {
        let name = (directory as NSString).lastPathComponent
        let bundle = try ModelBundle(directory: directory)
        guard let config = bundle.model as? PETRConfig else { XCTFail("\(name): not PETR"); return [:] }
        let inputs = try SafeTensorsFile(path: "\(directory)/inputs.safetensors").allTensors()
        let reference = try SafeTensorsFile(path: "\(directory)/reference.safetensors")
        let input = try PETRModel.input(for: inputs, config: config, source: name)
        let model = try PETRModel(bundle: bundle, input: input, threads: threads)
        let outputs = try model.run(inputs, source: name)

        var errors: [String: Float] = [:]
        let compared: [(String, Tensor)] = [
            ("coords3d", outputs.coords3d), ("pos_embed", outputs.posEmbed), ("memory", outputs.memory),
            ("all_cls_scores", outputs.allClassScores), ("all_bbox_preds", outputs.allBboxPredictions),
        ]
        for (key, actual) in compared {
            let expected = try reference.tensor(key)
            XCTAssertEqual(actual.shape, expected.shape, "\(name) \(key)", file: file, line: line)
            guard actual.shape == expected.shape else { continue }
            let (error, magnitude) = maxErrors(actual.floats(), expected.floats())
            XCTAssertLessThanOrEqual(error, Self.tolerance * magnitude, "\(name) \(key) threads \(threads)", file: file, line: line)
            XCTAssertGreaterThan(magnitude, 0.1, "\(name) \(key): degenerate reference", file: file, line: line)
            errors[key] = error / magnitude
        }
        // Every decoder layer separately (L x Q x D): the last layer alone must not carry the check.
        let layers = config.head.numLayers
        for (key, actual) in [("all_cls_scores", outputs.allClassScores), ("all_bbox_preds", outputs.allBboxPredictions)] {
            let expected = try reference.tensor(key).floats(), values = actual.floats()
            let width = values.count / layers
            for layer in 0..<layers {
                let range = (layer * width)..<((layer + 1) * width)
                let (error, magnitude) = maxErrors(Array(values[range]), Array(expected[range]))
                XCTAssertLessThanOrEqual(error, Self.tolerance * magnitude, "\(name) \(key) layer \(layer)", file: file, line: line)
            }
        }
        if reference.contains("features"), case .images = input {
            // The feature map the head got (backbone + neck), through the graph's own value.
            XCTAssertEqual(model.built.graph.inputs.map { model.built.graph.info($0).name }.sorted(), ["coords3d", "images"])
        }
        errors["boxes"] = try compareDetections(outputs.detections, reference, name: name, file: file, line: line)
        return errors
    }

    /// Boxes, scores and labels as sets keyed by (label, query). Entries in only one set must be
    /// near-ties at the max_num cut (their score within tolerance of the last kept score).
    func compareDetections(_ d: PETRDetections, _ reference: SafeTensorsFile, name: String,
                           file: StaticString, line: UInt) throws -> Float {
        let boxes = try reference.tensor("boxes").floats(), scores = try reference.tensor("scores").floats()
        let labels = try reference.tensor("labels").floats(), queries = try reference.tensor("queries").floats()
        XCTAssertEqual(d.labels.dtype, .i32, file: file, line: line)
        XCTAssertEqual(d.boxes.shape, [d.count, 9], file: file, line: line)
        struct Key: Hashable { let label: Int, query: Int }
        var expected: [Key: (box: [Float], score: Float)] = [:]
        for i in 0..<scores.count {
            expected[Key(label: Int(labels[i]), query: Int(queries[i]))] = (Array(boxes[(i * 9)..<(i * 9 + 9)]), scores[i])
        }
        let actualBoxes = d.boxes.floats(), actualScores = d.scores.floats()
        let actualLabels = d.labels.floats(), actualQueries = d.queries.floats()
        let cut = scores.last ?? 0
        var worst: Float = 0
        let magnitude = boxes.map(abs).max() ?? 1
        var matched = 0
        for i in 0..<d.count {
            let key = Key(label: Int(actualLabels[i]), query: Int(actualQueries[i]))
            guard let want = expected[key] else {
                XCTAssertLessThanOrEqual(abs(actualScores[i] - cut), 1e-5, "\(name): box \(key) not in the reference and not a near-tie",
                                         file: file, line: line)
                continue
            }
            matched += 1
            XCTAssertEqual(actualScores[i], want.score, accuracy: 1e-5, "\(name) score \(key)", file: file, line: line)
            let (error, _) = maxErrors(Array(actualBoxes[(i * 9)..<(i * 9 + 9)]), want.box)
            worst = max(worst, error)
        }
        XCTAssertLessThanOrEqual(worst, Self.tolerance * magnitude, "\(name) boxes", file: file, line: line)
        XCTAssertGreaterThanOrEqual(matched, scores.count - 1, "\(name): \(matched) of \(scores.count) reference boxes found", file: file, line: line)
        XCTAssertGreaterThan(scores.count, 0, "\(name): no reference boxes", file: file, line: line)
        // Scores are sorted best first.
        XCTAssertEqual(actualScores, actualScores.sorted(by: >), "\(name) score order", file: file, line: line)
        return worst / magnitude
    }
}
