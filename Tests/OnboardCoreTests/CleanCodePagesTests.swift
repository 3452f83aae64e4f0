import Foundation
@testable import OnboardCore
import XCTest

final class CleanCodePagesTests: XCTestCase {
    /// Only read-only mappings of the executable and the shared libraries without an anonymous page:
    /// never a written (RELRO) or writable one, the heap, a mapped weight file or another file.
    func test_releasesOnlyCleanCodeAndReadOnlyData() {
        let smaps = """
            55d0a0000000-55d0a0100000 r-xp 00000000 08:01 1 /opt/bin/onboard
            Rss:                 400 kB
            Anonymous:             0 kB
            55d0a0100000-55d0a0180000 r--p 00100000 08:01 1 /opt/bin/onboard
            Rss:                 200 kB
            Anonymous:             0 kB
            55d0a0180000-55d0a0190000 r--p 00180000 08:01 1 /opt/bin/onboard
            Rss:                  64 kB
            Anonymous:            64 kB
            55d0a0190000-55d0a01a0000 rw-p 00190000 08:01 1 /opt/bin/onboard
            Rss:                  16 kB
            Anonymous:             8 kB
            55d0a1000000-55d0a2000000 rw-p 00000000 00:00 0 [heap]
            Rss:                3000 kB
            Anonymous:          3000 kB
            7f0002000000-7f0002400000 r--p 00000000 08:01 2 /data/model.safetensors
            Rss:                1500 kB
            Anonymous:             0 kB
            7f0003000000-7f0003100000 r-xp 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/libopenblas.so.0
            Rss:                 900 kB
            Anonymous:             0 kB
            7f0004000000-7f0004001000 r--p 00000000 08:01 5 /usr/lib/locale/C.utf8/LC_CTYPE
            Rss:                   8 kB
            Anonymous:             0 kB
            7ffd10000000-7ffd10002000 r-xp 00000000 00:00 0 [vdso]
            Rss:                   4 kB
            Anonymous:             0 kB
            """
        let candidates = CleanCodePages.candidates(smaps: smaps.split(separator: "\n").map { String($0) + "\n" },
                                                   executable: "/opt/bin/onboard")
        XCTAssertEqual(candidates, [
            .init(start: 0x55d0a0000000, end: 0x55d0a0100000, residentBytes: 400 * 1024),
            .init(start: 0x55d0a0100000, end: 0x55d0a0180000, residentBytes: 200 * 1024),
            .init(start: 0x7f0003000000, end: 0x7f0003100000, residentBytes: 900 * 1024),
        ])
    }

    /// In this process: the test binary's resident code shrinks, and what runs after still works
    /// (its pages fault back in).
    func test_releaseShrinksThisProcessesResidentCode() throws {
        #if os(Linux)
        let before = try XCTUnwrap(ResidentMemory.current()).binaryBytes
        let released = CleanCodePages.release()
        let after = try XCTUnwrap(ResidentMemory.current()).binaryBytes
        XCTAssertGreaterThan(released, 1 << 20)
        XCTAssertLessThan(after, before - (1 << 20), "before \(before), after \(after)")
        XCTAssertEqual(try JSONDecoder().decode([Int].self, from: Data("[1, 2]".utf8)), [1, 2])
        #else
        XCTAssertEqual(CleanCodePages.release(), 0)
        #endif
    }
}
