import OnboardCore
import XCTest

final class NibbleRowsTests: XCTestCase {
    func test_packThenUnpackIsTheIdentityOnEveryCodeAndAnOddWidth() throws {
        let width = 17, rows = 3
        let values = (0..<(rows * width)).map { Float(($0 % 16) - 8) }
        let codes = Tensor(zeros: [rows, width], dtype: .i8)
        for (i, v) in values.enumerated() { codes.rawPointer.assumingMemoryBound(to: Int8.self)[i] = Int8(v) }
        let packed = NibbleRows.pack(codes)
        XCTAssertEqual(packed.shape, [rows, 9])
        XCTAssertEqual(packed.dtype, .u8)
        // Row 0 starts with codes -8 and -7: 0x8 low, 0x9 high.
        XCTAssertEqual(packed.rawPointer.assumingMemoryBound(to: UInt8.self)[0], 0x98)
        let unpacked = NibbleRows.unpack(packed, width: width)
        XCTAssertEqual(unpacked.shape, [rows, width])
        XCTAssertEqual((0..<unpacked.count).map { Float(unpacked.rawPointer.assumingMemoryBound(to: Int8.self)[$0]) }, values)
    }
}
