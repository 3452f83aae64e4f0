import Foundation
import OnboardCore
import XCTest

final class ResidentMemoryTests: XCTestCase {
    /// One mapping of each kind; a thread stack is the anonymous mapping right above its guard page,
    /// while an anonymous mapping elsewhere (a large allocation) is heap.
    func test_parseClassifiesEachMapping() {
        let smaps = """
            55d0a0000000-55d0a0100000 r-xp 00000000 08:01 1 /opt/bin/onboard
            Size:               1024 kB
            Rss:                 400 kB
            55d0a0100000-55d0a0110000 rw-p 00100000 08:01 1 /opt/bin/onboard
            Rss:                  16 kB
            55d0a1000000-55d0a2000000 rw-p 00000000 00:00 0 [heap]
            Rss:                3000 kB
            7f0000000000-7f0000001000 ---p 00000000 00:00 0
            Rss:                   0 kB
            7f0000001000-7f0000801000 rw-p 00000000 00:00 0
            Rss:                  24 kB
            7f0001000000-7f0001400000 rw-p 00000000 00:00 0
            Rss:                2048 kB
            7f0002000000-7f0002400000 r--p 00000000 08:01 2 /data/model dir/model.safetensors
            Rss:                1500 kB
            7f0003000000-7f0003100000 r-xp 00000000 08:01 3 /usr/lib/libswiftCore.so
            Rss:                 900 kB
            7f0003100000-7f0003200000 r--p 00000000 08:01 4 /usr/lib/x86_64-linux-gnu/libc.so.6
            Rss:                 100 kB
            7f0004000000-7f0004001000 r--p 00000000 08:01 5 /usr/lib/locale/C.utf8/LC_CTYPE
            Rss:                   8 kB
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
            Rss:                  32 kB
            7ffd10000000-7ffd10002000 r-xp 00000000 00:00 0 [vdso]
            Rss:                   4 kB
            """
        let memory = ResidentMemory.parse(smaps: smaps.split(separator: "\n").map { String($0) + "\n" },
                                          executable: "/opt/bin/onboard")
        XCTAssertEqual(memory.binaryBytes, (400 + 16 + 900 + 100) * 1024)
        XCTAssertEqual(memory.heapBytes, (3000 + 2048) * 1024)
        XCTAssertEqual(memory.stackBytes, (24 + 32) * 1024)
        XCTAssertEqual(memory.mappedWeightsBytes, 1500 * 1024)
        XCTAssertEqual(memory.otherBytes, (8 + 4) * 1024)
        XCTAssertEqual(memory.totalBytes, 8032 * 1024)
    }

    /// This process: the parts add up to its resident size, and the test binary's code is resident.
    func test_currentAddsUpToTheResidentSize() throws {
        #if os(Linux)
        let memory = try XCTUnwrap(ResidentMemory.current())
        XCTAssertGreaterThan(memory.binaryBytes, 1 << 20)
        XCTAssertGreaterThan(memory.heapBytes, 0)
        XCTAssertGreaterThan(memory.stackBytes, 0)
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let rss = try XCTUnwrap(Int(line.split(separator: " ")[1])) * 1024
        XCTAssertEqual(Double(memory.totalBytes), Double(rss), accuracy: Double(rss) * 0.1)
        #else
        XCTAssertNil(ResidentMemory.current())
        #endif
    }
}
