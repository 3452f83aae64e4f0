import Foundation
import OnboardCore
import XCTest

final class ProcessStatsTests: XCTestCase {
    /// After a 64 MiB buffer is touched and freed, resetting the peak brings VmHWM back below it
    /// (or, where the peak cannot be reset, reports that and keeps it).
    func test_resetPeakForgetsAnEarlierPeak() {
        let bytes = 64 << 20
        do {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
            memset(buffer, 1, bytes)
            buffer.deallocate()
        }
        let before = ProcessStats.peakResidentBytes
        #if os(Linux)
        guard ProcessStats.resetPeak() else {
            // Where /proc/self/clear_refs is not writable the reset says so and the peak stays.
            XCTAssertGreaterThanOrEqual(ProcessStats.peakResidentBytes, before)
            return
        }
        let after = ProcessStats.peakResidentBytes
        XCTAssertGreaterThan(after, 0)
        XCTAssertLessThan(after, before - bytes / 2, "peak \(before) -> \(after)")
        #else
        XCTAssertFalse(ProcessStats.resetPeak())
        XCTAssertEqual(ProcessStats.peakResidentBytes, before)
        #endif
    }
}
