import CKernels
import OnboardCore
import XCTest

/// The byte transpose equals its scalar reference, and the run copier equals a permute written
/// out index by index.
final class MovementTests: XCTestCase {
    func test_byteTransposeEqualsTheReferenceOnEveryEdge() {
        var random = SplitMix64(seed: 5)
        for (rows, cols) in [(1, 1), (15, 17), (16, 16), (17, 15), (32, 48), (33, 160), (160, 128), (7, 100)] {
            for (lds, ldd) in [(cols, rows), (cols + 3, rows + 5)] {
                let src = (0..<(rows * lds)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                var expected = [UInt8](repeating: 0xAB, count: cols * ldd)
                var actual = expected
                onboard_transpose_u8__scalar(src, lds, &expected, ldd, rows, cols)
                onboard_transpose_u8(src, lds, &actual, ldd, rows, cols)
                XCTAssertEqual(actual, expected, "\(rows)x\(cols), lds \(lds), ldd \(ldd)")
                XCTAssertEqual(expected[ldd * (cols - 1) + rows - 1], src[lds * (rows - 1) + cols - 1])
            }
        }
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
