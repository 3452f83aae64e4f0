import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardTestSupport
import XCTest

/// A graph bundle's stored form: every op survives JSON, and a rebuilt graph has the original's
/// values and nodes (constants come before inputs in it, so value order may differ).
final class GraphDescriptionTests: XCTestCase {
    func test_everyOpRoundTripsThroughJSON() throws {
        for op in OpTraitsTests.ops {
            let data = try JSONEncoder().encode(op)
            XCTAssertEqual(try JSONDecoder().decode(Op.self, from: data), op, String(decoding: data, as: UTF8.self))
        }
    }

    func test_rebuiltGraphEqualsTheOriginal() throws {
        for op in OpTraitsTests.ops {
            let graph = try OpTraitsTests.graph(op)
            let description = GraphDescription(graph)
            let decoded = try JSONDecoder().decode(GraphDescription.self, from: try JSONEncoder().encode(description))
            XCTAssertEqual(decoded, description, op.kind)
            let rebuilt = try decoded.build { name, _ in
                (try XCTUnwrap(graph.value(named: name).flatMap { graph.constants[$0] }), nil)
            }
            XCTAssertEqual(GraphDescription(rebuilt), description, op.kind)
            XCTAssertEqual(rebuilt.values.sorted { $0.name < $1.name }, graph.values.sorted { $0.name < $1.name }, op.kind)
        }
    }

    func test_badDescriptionsAreErrorsNamingTheItem() throws {
        let unknown = #"{"op": "teleport"}"#
        XCTAssertThrowsError(try JSONDecoder().decode(Op.self, from: Data(unknown.utf8)))
        let zeroStride = #"{"op": "conv2d", "stride": [0, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 1}"#
        XCTAssertThrowsError(try JSONDecoder().decode(Op.self, from: Data(zeroStride.utf8)))
        let dangling = GraphDescription(version: 1, inputs: [.init(name: "x", shape: [2], dtype: .f32)], constants: [],
                                        nodes: [.init(name: "y", op: .add, inputs: ["x", "nowhere"])], outputs: ["y"])
        XCTAssertThrowsError(try dangling.build { _, _ in (Tensor(zeros: [1]), nil) }) { error in
            XCTAssertTrue("\(error)".contains("nowhere"), "\(error)")
        }
        let future = GraphDescription(version: 99, inputs: [], constants: [], nodes: [], outputs: [])
        XCTAssertThrowsError(try future.build { _, _ in (Tensor(zeros: [1]), nil) })
    }
}
