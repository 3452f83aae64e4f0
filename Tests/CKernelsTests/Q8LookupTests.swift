import CKernels
import OnboardCore
import XCTest

/// The code-to-code lookup (GELU, ReLU and other unary islands, the deferred softmax's exp rows): every
/// kernel of its list this CPU has gives table[x] for every code, ragged lengths and in place.
final class Q8LookupTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    func test_everyLookupKernelGivesTheTableEntry() {
        var random = SplitMix64(seed: 5)
        let kernels = Kernel.runnable("q8_lookup_u8")
        XCTAssertEqual(kernels.last?.isa, "scalar")
        for n in [0, 1, 15, 31, 32, 33, 63, 64, 65, 100, 256, 1000, 4099] {
            // Every code once, in order, then random ones; a random table, then one that is a permutation.
            let codes = (0..<n).map { $0 < 256 ? UInt8($0) : UInt8(truncatingIfNeeded: random.next()) }
            for permuted in [false, true] {
                let table = permuted ? (0...255).map { UInt8((Int($0) * 167 + 13) % 256) }
                                     : (0...255).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                let expected = codes.map { table[Int($0)] }
                for kernel in kernels {
                    kernel.cap()
                    var y = [UInt8](repeating: 0xAB, count: n)
                    onboard_q8_lookup_u8(codes, &y, n, table)
                    XCTAssertEqual(y, expected, "\(kernel.name) n \(n)")
                    var inPlace = codes
                    inPlace.withUnsafeMutableBufferPointer { onboard_q8_lookup_u8($0.baseAddress, $0.baseAddress, n, table) }
                    XCTAssertEqual(inPlace, expected, "\(kernel.name) n \(n) in place")
                }
            }
        }
    }
}
