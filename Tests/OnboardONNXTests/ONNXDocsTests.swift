import Foundation
@testable import OnboardONNX
import OnboardTestSupport
import XCTest

/// docs/onnx.md's table of supported ops lists exactly the op types the importer registers.
final class ONNXDocsTests: XCTestCase {
    func test_supportedOpsTableMatchesTheRegistry() throws {
        let text = try String(contentsOfFile: (TestPaths.root as NSString).appendingPathComponent("docs/onnx.md"), encoding: .utf8)
        let section = try XCTUnwrap(text.components(separatedBy: "## Supported ops").last?.components(separatedBy: "\n## ").first)
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| op ") }
        let documented = rows.flatMap { row in
            row.split(separator: "|")[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        XCTAssertEqual(documented.count, Set(documented).count, "an op is listed twice")
        XCTAssertEqual(Set(documented), Set(ONNXOpTable.rules.keys))
    }
}
