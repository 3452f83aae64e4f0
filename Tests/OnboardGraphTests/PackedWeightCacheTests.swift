import OnboardCore
@testable import OnboardGraph
import OnboardTestSupport
import XCTest

/// Executors of one model at several shapes share its packed Linear weights by name (FP32:
/// `PackedWeightCache`, INT8: `QuantizedWeightCache`): the second executor packs nothing and
/// computes what an executor of its own computes.
final class PackedWeightCacheTests: XCTestCase {
    /// x [rows, 24] -> fc1 (40) -> gelu -> fc2 (16), the same weights at every row count.
    func graph(rows: Int) throws -> Graph {
        var random = TestRandom(seed: 5)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [rows, 24])
        let fc1 = try g.node(.linear, [x, try g.constant("fc1.weight", random.gaussian([40, 24], scale: 0.3)),
                                       try g.constant("fc1.bias", random.gaussian([40]))], name: "fc1")
        let h = try g.node(.gelu(approximate: false), [fc1], name: "h")
        g.markOutput(try g.node(.linear, [h, try g.constant("fc2.weight", random.gaussian([16, 40], scale: 0.3))], name: "fc2"))
        return try g.build()
    }

    func test_executorsAtTwoShapesShareThePackedWeightsAndMatchUnsharedOnes() throws {
        let cache = PackedWeightCache()
        var random = TestRandom(seed: 6)
        for rows in [3, 17] {
            let input = random.gaussian([rows, 24])
            let shared = try FP32Executor(graph: try graph(rows: rows), threads: 2, packedWeights: cache).run(["x": input])
            let own = try FP32Executor(graph: try graph(rows: rows), threads: 2).run(["x": input])
            XCTAssertEqual(try XCTUnwrap(shared["fc2"]).floats(), try XCTUnwrap(own["fc2"]).floats(), "\(rows) rows")
        }
        // Both weights were packed by the first executor: asking again makes nothing.
        let unused = [Float](repeating: 0, count: 16)
        for name in ["fc1.weight", "fc2.weight"] {
            let packed = cache.value(name) {
                XCTFail("\(name) was not kept")
                return unused.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: 4, n: 4, transposed: true) }
            }
            XCTAssertEqual(packed.k, name == "fc1.weight" ? 24 : 40)
        }
    }

    func test_int8ExecutorsAtTwoShapesShareThePackedCodes() throws {
        var random = TestRandom(seed: 7)
        let calibration = (0..<4).map { _ in ["x": random.gaussian([5, 24])] }
        let plan = try Calibrator.calibrate(graph: try graph(rows: 5), recipe: QuantizationRecipe(), count: calibration.count,
                                            threads: 2) { calibration[$0] }
        let cache = QuantizedWeightCache()
        for rows in [5, 11] {
            let input = ["x": random.gaussian([rows, 24])]
            let shared = try Int8Executor(graph: try graph(rows: rows), plan: plan, threads: 2, weightCache: cache).run(input)
            let own = try Int8Executor(graph: try graph(rows: rows), plan: plan, threads: 2).run(input)
            XCTAssertEqual(try XCTUnwrap(shared["fc2"]).floats(), try XCTUnwrap(own["fc2"]).floats(), "\(rows) rows")
        }
        for (name, k) in [("fc1.weight", 24), ("fc2.weight", 40)] {
            let packed = cache.packed.value(name) {
                XCTFail("\(name) was not kept")
                return PackedWeights(codes: [Int8](repeating: 0, count: 16), n: 4, k: 4, bits: 8)
            }
            XCTAssertEqual(packed.k, k)
        }
    }
}
