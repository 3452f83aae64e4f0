import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardTestSupport
import XCTest

/// The online `hadamard` op: rows times Sylvester's H_n / sqrt(n) written out here for a power of two,
/// an orthonormal ±1/sqrt(n) rotation for n = 12·2^m, and a refusal for a size with no Hadamard.
final class HadamardRotationOpTests: XCTestCase {
    var random = TestRandom(seed: 33)

    func rotate(_ x: Tensor, threads: Int = 2) throws -> Tensor {
        let g = GraphBuilder()
        g.markOutput(try g.node(.hadamard, [try g.input("x", shape: x.shape)], name: "out"))
        return try XCTUnwrap(try FP32Executor(graph: try g.build(), threads: threads).run(["x": x])["out"])
    }

    func test_powerOfTwoRowsAreTimesSylvestersMatrix() throws {
        let n = 16, rows = 5
        let x = random.gaussian([rows, n], scale: 2)
        let xs = x.floats().map(Double.init)
        var expected: [Double] = []
        for row in 0..<rows {
            for j in 0..<n {
                var sum = 0.0
                for i in 0..<n { sum += xs[row * n + i] * ((i & j).nonzeroBitCount % 2 == 0 ? 1 : -1) }
                expected.append(sum / Double(n).squareRoot())
            }
        }
        for threads in [1, 3] {
            let y = try rotate(x, threads: threads).floats()
            for (a, b) in zip(y, expected) { XCTAssertEqual(Double(a), b, accuracy: 1e-5, "threads \(threads)") }
        }
    }

    func test_twelveTimesPowerOfTwoIsAnOrthonormalSignMatrix() throws {
        let n = 48
        var identity = [Float](repeating: 0, count: n * n)
        for i in 0..<n { identity[i * n + i] = 1 }
        let r = try rotate(try Tensor(shape: [n, n], values: identity)).floats()  // row i is e_i · R: R itself
        for value in r { XCTAssertEqual(abs(value), 1 / Float(n).squareRoot(), accuracy: 1e-6) }
        for a in 0..<n {
            for b in 0..<n {
                var dot: Float = 0
                for k in 0..<n { dot += r[a * n + k] * r[b * n + k] }
                XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-5)
            }
        }
    }

    func test_aSizeWithoutAHadamardMatrixIsRefusedByTheShapeRule() {
        let g = GraphBuilder()
        XCTAssertThrowsError(try g.node(.hadamard, [try g.input("x", shape: [2, 7])], name: "out")) { error in
            XCTAssertTrue("\(error)".contains("out"), "\(error)")
        }
    }
}
