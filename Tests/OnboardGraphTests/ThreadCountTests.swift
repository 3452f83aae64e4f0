import OnboardCore
import OnboardGraph
import OnboardTestSupport
import XCTest

/// FP32 results do not depend on the thread count: products through BLAS are split by their shape,
/// never by the threads (OpenBLAS orders each element's sum by the shape of its call), so a run on
/// any number of threads, or sharded over machines with other core counts, gives the same floats.
final class ThreadCountTests: XCTestCase {
    func test_blasProductsGiveTheSameFloatsOnAnyThreadCount() throws {
        var random = TestRandom(seed: 7)
        let g = GraphBuilder()
        // A convolution wider than tall (split by columns) and a linear layer on a weight that is a
        // graph input (not packed: BLAS, split by rows), with sizes that leave edge tiles.
        let image = try g.input("image", shape: [1, 19, 23, 47])
        let features = try g.node(.conv2d(Conv2dParams(stride: 1, padding: 1)),
                                  [image, try g.constant("w", random.gaussian([37, 19, 3, 3], scale: 0.2))], name: "conv")
        let tokens = try g.input("tokens", shape: [301, 67])
        let weight = try g.input("weight", shape: [53, 67])
        g.markOutput(features)
        g.markOutput(try g.node(.linear, [tokens, weight], name: "linear"))
        let graph = try g.build()
        let inputs = ["image": random.gaussian([1, 19, 23, 47]), "tokens": random.gaussian([301, 67]), "weight": random.gaussian([53, 67])]
        let single = try FP32Executor(graph: graph, threads: 1).run(inputs)
        for threads in [2, 3, 5, 8] {
            let outputs = try FP32Executor(graph: graph, threads: threads).run(inputs)
            for name in ["conv", "linear"] {
                XCTAssertEqual(try XCTUnwrap(outputs[name]).floats(), try XCTUnwrap(single[name]).floats(), "\(name) on \(threads) threads")
            }
        }
    }
}
