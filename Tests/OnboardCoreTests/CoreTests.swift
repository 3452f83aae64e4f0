import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

final class HalfFloatTests: XCTestCase {
    func test_f16DecodeMatchesFloat16ForEveryBitPattern() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = HalfFloat.f16ToFloat(bits)
            if expected.isNaN {
                XCTAssertTrue(actual.isNaN)
            } else {
                XCTAssertEqual(actual.bitPattern, expected.bitPattern, "bits \(bits)")
            }
        }
    }

    func test_f16EncodeRoundsToNearestEvenLikeFloat16() {
        var random = TestRandom(seed: 7)
        let specials: [Float] = [0, -0, 1, 65504, 65520, 1e-8, 5.96e-8, 2.98e-8, 6.1e-5, .infinity, -.infinity, 1e10]
        for value in specials + random.floats(20000, scale: 300) + random.floats(2000, scale: 1e-5) {
            XCTAssertEqual(HalfFloat.floatToF16(value), Float16(value).bitPattern, "value \(value)")
        }
    }

    func test_bf16RoundTrip() {
        XCTAssertEqual(HalfFloat.bf16ToFloat(HalfFloat.floatToBF16(1.0)), 1.0)
        XCTAssertEqual(HalfFloat.floatToBF16(1.00390625), 0x3F80)  // tie rounds to even
        XCTAssertEqual(HalfFloat.floatToBF16(1.01171875), 0x3F82)  // tie rounds up to even
        XCTAssertTrue(HalfFloat.bf16ToFloat(HalfFloat.floatToBF16(.nan)).isNaN)
    }
}

final class TensorTests: XCTestCase {
    func test_reshapeChecksElementCount() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try t.reshaped([3, 2]).floats(), [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try t.reshaped([4, 2]))
        XCTAssertThrowsError(try Tensor(shape: [2, 2], values: [1, 2, 3]))
        XCTAssertThrowsError(try Tensor(shape: [2], dtype: .i8, integers: [1, 300]))
    }

    /// Int32 values into an i32 tensor are copied whole; other integer types are converted, checked.
    func test_integerTensorsHoldTheirValues() throws {
        let words: [Int32] = [Int32.min, -1, 0, 42, Int32.max]
        let direct = try Tensor(shape: [5], dtype: .i32, integers: words)
        let converted = try Tensor(shape: [5], dtype: .i32, integers: words.map(Int.init))
        for tensor in [direct, converted] {
            XCTAssertEqual(Array(UnsafeBufferPointer(start: tensor.rawPointer.assumingMemoryBound(to: Int32.self), count: 5)), words)
        }
        XCTAssertEqual(try Tensor(shape: [0], dtype: .i32, integers: [Int32]()).count, 0)
        XCTAssertThrowsError(try Tensor(shape: [1], dtype: .i32, integers: [Int(Int32.max) + 1]))
    }

    func test_storageIs64ByteAligned() {
        for size in [1, 3, 17, 1000] {
            XCTAssertEqual(Int(bitPattern: Tensor(zeros: [size]).rawPointer) % 64, 0)
        }
    }

    func test_statistics() throws {
        let stats = TensorStatistics(try Tensor(shape: [5], values: [1, 2, 3, 4, .nan]))
        XCTAssertEqual(stats.min, 1)
        XCTAssertEqual(stats.max, 4)
        XCTAssertEqual(stats.mean, 2.5, accuracy: 1e-12)
        XCTAssertEqual(stats.std, (1.25).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(stats.nonFiniteCount, 1)
    }

    func test_timingSummary() {
        let summary = TimingSummary([5, 1, 4, 2, 3, 10, 6, 7, 8, 9])
        XCTAssertEqual(summary.median, 5.5)
        XCTAssertEqual(summary.percentile(90), 9)
        XCTAssertEqual(summary.percentile(100), 10)
    }
}

final class AtomicFileTests: XCTestCase {
    func test_failedWriteLeavesNeitherTargetNorTemporary() throws {
        let directory = TestPaths.temporaryDirectory("atomic")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = (directory as NSString).appendingPathComponent("out.bin")
        struct Interrupted: Error {}
        XCTAssertThrowsError(try AtomicFile(path: target).write { sink in
            try sink.append([1, 2, 3])
            throw Interrupted()
        })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
        try AtomicFile(path: target).write(bytes: [9])
        XCTAssertEqual(FileManager.default.contents(atPath: target), Data([9]))
    }

    func test_unwritableDirectoryIsAnIOError() {
        XCTAssertThrowsError(try AtomicFile(path: "/nonexistent-dir/x.bin").write(bytes: [1])) { error in
            guard case let OnboardError.io(path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent-dir/x.bin")
        }
    }
}
