import Foundation
import OnboardCore
import XCTest

/// The line and JSON object reports print for the kernel paths.
final class KernelPathsTests: XCTestCase {
    func test_textNamesTheFamiliesThatDifferAndTheMissingDotProduct() throws {
        let same = KernelPaths(active: "avx512vnni", families: ["q8_gemm": "avx512vnni", "q8_rows": "avx512vnni"], int8DotProduct: true)
        XCTAssertEqual(same.text, "avx512vnni (every kernel family)")
        let mixed = KernelPaths(active: "avx2", families: ["q8_gemm": "avx2+scalar", "q8_rows": "avx2", "f32_gemm": "avx2"],
                                int8DotProduct: false)
        XCTAssertEqual(mixed.text, "avx2 (q8_gemm avx2+scalar); no int8 dot-product instruction (no VNNI / no sdot): "
                       + "INT8 mainly saves memory here")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        XCTAssertEqual(String(decoding: try encoder.encode(mixed), as: UTF8.self),
                       #"{"active":"avx2","families":{"f32_gemm":"avx2","q8_gemm":"avx2+scalar","q8_rows":"avx2"},"int8_dot_product":false}"#)
        XCTAssertEqual(try JSONDecoder().decode(KernelPaths.self, from: try encoder.encode(mixed)), mixed)
    }
}
