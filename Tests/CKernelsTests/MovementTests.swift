import CKernels
import OnboardCore
import XCTest

/// Every transpose kernel equals its scalar reference, and the run copier equals a permute written
/// out index by index.
final class MovementTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    typealias Transpose<T> = (_ src: [T], _ lds: Int, _ dst: inout [T], _ ldd: Int, _ rows: Int, _ cols: Int) -> Void

    /// Every kernel of `op`, on edges around its blocks and with padded leading dimensions (the
    /// padding stays untouched), against `reference`.
    func checkEveryKernel<T: FixedWidthInteger>(of op: String, seed: UInt64, reference: Transpose<T>, run: Transpose<T>) {
        var random = SplitMix64(seed: seed)
        for kernel in Kernel.runnable(op) {
            kernel.cap()
            for (rows, cols) in [(1, 1), (15, 17), (16, 16), (17, 15), (32, 48), (33, 160), (160, 128), (7, 100), (4, 4), (5, 3)] {
                for (lds, ldd) in [(cols, rows), (cols + 3, rows + 5)] {
                    let src = (0..<(rows * lds)).map { _ in T(truncatingIfNeeded: random.next()) }
                    var expected = [T](repeating: T(truncatingIfNeeded: 0xABAB_ABAB), count: cols * ldd)
                    var actual = expected
                    reference(src, lds, &expected, ldd, rows, cols)
                    run(src, lds, &actual, ldd, rows, cols)
                    XCTAssertEqual(actual, expected, "\(kernel.name) \(rows)x\(cols), lds \(lds), ldd \(ldd)")
                    XCTAssertEqual(expected[ldd * (cols - 1) + rows - 1], src[lds * (rows - 1) + cols - 1])
                }
            }
        }
    }

    func test_byteTransposeEqualsTheReferenceOnEveryEdge() {
        checkEveryKernel(of: "transpose_u8", seed: 5,
                         reference: { _ = onboard_transpose_u8__scalar($0, $1, &$2, $3, $4, $5) },
                         run: { onboard_transpose_u8($0, $1, &$2, $3, $4, $5) })
    }

    /// 32-bit elements (float bit patterns, NaNs included) move unchanged.
    func test_wordTransposeEqualsTheReferenceOnEveryEdge() {
        checkEveryKernel(of: "transpose_u32", seed: 6,
                         reference: { _ = onboard_transpose_u32__scalar($0, $1, &$2, $3, $4, $5) },
                         run: { onboard_transpose_u32($0, $1, &$2, $3, $4, $5) })
    }

    /// [6, 160, 3, 4, 32] -> [3, 6, 4, 160, 32] (attention's head split) in runs of 32 bytes,
    /// copied in pieces that start anywhere in the odometer.
    func test_runCopiesEqualTheIndexByIndexPermute() {
        let shape = [6, 10, 3, 4, 32], permutation = [2, 0, 3, 1, 4]
        let count = shape.reduce(1, *)
        let src = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 251) }
        var strides = [Int](repeating: 1, count: 5)
        for axis in stride(from: 3, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        let outShape = permutation.map { shape[$0] }
        var expected = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            var rest = i, offset = 0
            for axis in stride(from: 4, through: 0, by: -1) {
                offset += (rest % outShape[axis]) * strides[permutation[axis]]
                rest /= outShape[axis]
            }
            expected[i] = src[offset]
        }
        let outer = Array(outShape.prefix(4)), outerStrides = permutation.prefix(4).map { strides[$0] }
        let runs = count / 32
        for pieces in [1, 3, 7] {
            var actual = [UInt8](repeating: 0xAB, count: count)
            for p in 0..<pieces {
                let first = runs * p / pieces, last = runs * (p + 1) / pieces
                onboard_copy_runs(src, &actual, 4, outer, outerStrides, 32, first, last - first)
            }
            XCTAssertEqual(actual, expected, "\(pieces) pieces")
        }
        // Byte by byte (run of 1) over all five axes gives the same.
        var single = [UInt8](repeating: 0xAB, count: count)
        onboard_copy_runs(src, &single, 5, outShape, permutation.map { strides[$0] }, 1, 0, count)
        XCTAssertEqual(single, expected)
    }
}
