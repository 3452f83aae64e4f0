import Foundation
import OnboardCore
import XCTest

final class ProcessStatsTests: XCTestCase {
    /// After a 64 MiB buffer is touched and freed, resetting the peak brings VmHWM back below it.
    func test_resetPeakForgetsAnEarlierPeak() throws {
        let bytes = 64 << 20
        do {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
            memset(buffer, 1, bytes)
            buffer.deallocate()
        }
        let before = ProcessStats.peakResidentBytes
        #if os(Linux)
        guard ProcessStats.resetPeak() else { throw XCTSkip("/proc/self/clear_refs is not writable here") }
        let after = ProcessStats.peakResidentBytes
        XCTAssertGreaterThan(after, 0)
        XCTAssertLessThan(after, before - bytes / 2, "peak \(before) -> \(after)")
        #else
        XCTAssertFalse(ProcessStats.resetPeak())
        XCTAssertEqual(ProcessStats.peakResidentBytes, before)
        #endif
    }
}
