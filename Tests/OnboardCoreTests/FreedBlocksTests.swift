@testable import OnboardCore
import XCTest

/// Large blocks freed inside `AlignedBuffer.reusingFreedBlocks` serve the next buffer of their size
/// class, zeroed again; outside it, and past its limit, buffers are freed as before.
final class FreedBlocksTests: XCTestCase {
    func test_aFreedBlockServesTheNextBufferOfItsClassZeroed() {
        AlignedBuffer.reusingFreedBlocks(limit: 64 << 20) {
            var first: AlignedBuffer? = AlignedBuffer(byteCount: 3 << 20)
            let address = first?.pointer
            first?.pointer.storeBytes(of: 0xAB, toByteOffset: 12345, as: UInt8.self)
            first = nil
            XCTAssertEqual(FreedBlocks.shared.keptByteCount, 4 << 20)  // 3 MiB lies in the 4 MiB class
            let second = AlignedBuffer(byteCount: (4 << 20) - 100)
            XCTAssertEqual(second.pointer, address)
            XCTAssertEqual(FreedBlocks.shared.keptByteCount, 0)
            XCTAssertTrue(UnsafeRawBufferPointer(start: second.pointer, count: second.byteCount).allSatisfy { $0 == 0 })
            // Another class is not served from it.
            let other = AlignedBuffer(byteCount: 5 << 20)
            XCTAssertNotEqual(other.pointer, address)
        }
        XCTAssertEqual(FreedBlocks.shared.keptByteCount, 0, "the scope's end frees what it kept")
    }

    func test_blocksBeyondTheLimitAndOutsideAScopeAreFreed() {
        AlignedBuffer.reusingFreedBlocks(limit: 2 << 20) {
            var buffers: [AlignedBuffer] = [AlignedBuffer(byteCount: 2 << 20), AlignedBuffer(byteCount: 2 << 20)]
            buffers.removeAll()
            XCTAssertEqual(FreedBlocks.shared.keptByteCount, 2 << 20)
            var small: AlignedBuffer? = AlignedBuffer(byteCount: 4096)
            small = nil
            XCTAssertNil(small)
            XCTAssertEqual(FreedBlocks.shared.keptByteCount, 2 << 20, "small blocks are left to the allocator")
        }
        XCTAssertNil(FreedBlocks.shared.sizeClass(of: 8 << 20))
        var outside: AlignedBuffer? = AlignedBuffer(byteCount: 8 << 20)
        outside = nil
        XCTAssertNil(outside)
        XCTAssertEqual(FreedBlocks.shared.keptByteCount, 0)
    }

    func test_nestedScopesKeepBlocksUntilTheOutermostEnds() {
        AlignedBuffer.reusingFreedBlocks(limit: 16 << 20) {
            AlignedBuffer.reusingFreedBlocks(limit: 16 << 20) {
                _ = AlignedBuffer(byteCount: 1 << 20)
            }
            XCTAssertEqual(FreedBlocks.shared.keptByteCount, 1 << 20)
        }
        XCTAssertEqual(FreedBlocks.shared.keptByteCount, 0)
    }
}
