import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Integer softmaxes write their codes over their logits' (`InPlaceSoftmax`): the same outputs,
/// with one buffer for the two.
final class InPlaceSoftmaxTests: XCTestCase {
    let fixture = LongRows()

    override func tearDown() { KernelISA.reset() }

    func test_theSoftmaxWritesOverItsLogitsWithTheSameOutputs() throws {
        for output in [QuantizationRecipe.SoftmaxOutput.deferred, .normalized] {
            let graph = try fixture.graph()
            var random = TestRandom(seed: 5)
            let plan = try fixture.plan(graph, fixture.recipe(output), (0..<3).map { _ in fixture.sample(&random) })
            let separate = try Int8Executor(graph: graph, plan: plan, threads: 2, splitsHeadsInPlace: false)
            let inPlace = try Int8Executor(graph: graph, plan: plan, threads: 2)
            let index = Dictionary(uniqueKeysWithValues: graph.nodes.enumerated().map { ($1.name, $0) })
            guard let softmax = index["probs"], let scores = index["scores"] else { return XCTFail("no scores or probs") }
            let (logits, probabilities) = (graph.nodes[scores].output, graph.nodes[softmax].output)
            XCTAssertEqual(inPlace.memoryPlan.offsets[logits], inPlace.memoryPlan.offsets[probabilities], "\(output)")
            XCTAssertNotEqual(separate.memoryPlan.offsets[logits], separate.memoryPlan.offsets[probabilities], "\(output)")
            let codes = LongRows.heads * LongRows.queries * LongRows.keys
            XCTAssertEqual(inPlace.memoryPlan.liveBytesPerNode[softmax], separate.memoryPlan.liveBytesPerNode[softmax] - codes, "\(output)")
            for threads in [1, 2] {
                let test = fixture.sample(&random)
                let reference = try Int8Executor(graph: graph, plan: plan, threads: threads, splitsHeadsInPlace: false)
                let expected = try XCTUnwrap(try reference.run(test)["context"]).floats()
                let got = try XCTUnwrap(try Int8Executor(graph: graph, plan: plan, threads: threads).run(test)["context"]).floats()
                XCTAssertTrue(got == expected, "\(output), \(threads) threads: \(zip(got, expected).filter { $0 != $1 }.count) differ")
            }
        }
    }

    /// Probabilities that are also a graph output keep their own buffer (the logits are not theirs to take).
    func test_aSoftmaxThatIsAGraphOutputKeepsItsOwnBuffer() throws {
        let graph = try fixture.graph(softmaxIsAlsoAnOutput: true)
        var random = TestRandom(seed: 5)
        let plan = try fixture.plan(graph, fixture.recipe(.normalized), (0..<3).map { _ in fixture.sample(&random) })
        let executor = try Int8Executor(graph: graph, plan: plan, threads: 2)
        guard let softmax = graph.nodes.first(where: { $0.name == "probs" }) else { return XCTFail("no probs") }
        XCTAssertNotEqual(executor.memoryPlan.offsets[softmax.inputs[0]], executor.memoryPlan.offsets[softmax.output])
    }
}
