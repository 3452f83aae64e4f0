import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// An INT8 PETR takes its image input as u8 codes too: the same outputs, bit for bit, as from the
/// float input it would quantize; a float model and wrong shapes refuse codes.
final class PETRInputCodesTests: XCTestCase {
    func test_int8ModelGivesTheSameOutputsFromInputCodes() throws {
        let fixture = try TinyPETRFixture(seed: 3)
        let (bundle, input, inputs, fp32, plan) = (fixture.bundle, fixture.input, fixture.inputs, fixture.fp32, fixture.plan)
        XCTAssertNil(fp32.imageQuantization)
        let coords = fixture.samples[0]["coords3d"]!
        var executor: Int8Executor?
        let int8 = try PETRModel(bundle: bundle, input: input, threads: 2) { graph in
            let made = try Int8Executor(graph: graph, plan: plan, threads: 2)
            executor = made
            return made
        }
        let q = try XCTUnwrap(int8.imageQuantization)
        XCTAssertEqual(q, try XCTUnwrap(executor).inputQuantization("features"))
        XCTAssertNil(try XCTUnwrap(executor).inputQuantization("no_such_input"))

        let features = try XCTUnwrap(inputs["features"])
        let codes = Tensor(zeros: features.shape, dtype: .u8)
        let values = q.codes(of: features.floats())
        codes.rawPointer.copyMemory(from: values, byteCount: values.count)
        var coded = inputs
        coded["features"] = codes
        let fromFloats = try int8.run(inputs, source: "inputs"), fromCodes = try int8.run(coded, source: "inputs")
        XCTAssertEqual(fromCodes.allClassScores.floats(), fromFloats.allClassScores.floats())
        XCTAssertEqual(fromCodes.allBboxPredictions.floats(), fromFloats.allBboxPredictions.floats())
        XCTAssertGreaterThan(Set(values).count, 20)

        // Codes of the wrong shape, and codes for a float model, name the input.
        var wrong = inputs
        wrong["features"] = Tensor(zeros: [2, 16, 4, 7], dtype: .u8)
        XCTAssertThrowsError(try int8.run(wrong, source: "inputs")) { XCTAssertTrue("\($0)".contains("features"), "\($0)") }
        XCTAssertThrowsError(try XCTUnwrap(executor).run(["features": Tensor(zeros: [2, 16, 4, 7], dtype: .u8), "coords3d": coords])) {
            XCTAssertTrue("\($0)".contains("u8 codes"), "\($0)")
        }
        XCTAssertThrowsError(try fp32.run(coded, source: "inputs")) { XCTAssertTrue("\($0)".contains("expects f32"), "\($0)") }
    }
}
