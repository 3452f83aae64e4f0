import Foundation
@testable import OnboardQuant
import OnboardTestSupport
import XCTest

/// The dyadic grid of `StreamingHistogram`: bins, window and occupancy, against integer arithmetic.
final class StreamingHistogramTests: XCTestCase {
    /// floor(x / 2^exponent) from the Float's integer significand and exponent, by integer shifts.
    private func gridIndex(_ x: Float, exponent: Int) -> Int {
        guard x != 0 else { return 0 }
        let subnormal = x.exponentBitPattern == 0
        let significand = Int(x.significandBitPattern) | (subnormal ? 0 : 1 << 23)
        let scale = (subnormal ? 1 : Int(x.exponentBitPattern)) - 127 - 23 - exponent
        let signed = x < 0 ? -significand : significand
        return scale >= 0 ? signed << scale : signed >> -scale
    }

    private func histogram(_ batches: [[Float]], bins: Int = 64, anchoredAtZero: Bool = false) -> StreamingHistogram {
        var histogram = StreamingHistogram(bins: bins, anchoredAtZero: anchoredAtZero)
        for batch in batches {
            let values = anchoredAtZero ? batch.map(abs) : batch
            guard let lo = values.min(), let hi = values.max() else { continue }
            values.withUnsafeBufferPointer { histogram.add($0, lo: anchoredAtZero ? 0 : lo, hi: hi) }
        }
        return histogram
    }

    private func checkGrid(_ batches: [[Float]], bins: Int = 64, anchoredAtZero: Bool = false, _ name: String) {
        let h = histogram(batches, bins: bins, anchoredAtZero: anchoredAtZero)
        let values = batches.flatMap { $0 }.map { anchoredAtZero ? abs($0) : $0 }
        var expected = [Double](repeating: 0, count: h.binCount)
        for v in values {
            let bin = gridIndex(v, exponent: h.exponent) - h.lowerIndex
            XCTAssertTrue((0..<h.binCount).contains(bin), "\(name): \(v) falls outside the window")
            if (0..<h.binCount).contains(bin) { expected[bin] += 1 }
        }
        XCTAssertEqual(h.counts, expected, name)
        XCTAssertEqual(h.total, Double(values.count), name)
        let lo = anchoredAtZero ? 0 : values.min() ?? 0, hi = values.max() ?? 0
        XCTAssertEqual(h.lowerIndex, gridIndex(lo, exponent: h.exponent), "\(name): the window starts at the minimum's bin")
        let ulpFloor = Int(max(-lo, hi).ulp.exponent)
        XCTAssertGreaterThanOrEqual(h.exponent, ulpFloor, name)
        if h.exponent > ulpFloor {
            // One level finer would not have held the data, so it spans over half the bins.
            let spanned = gridIndex(hi, exponent: h.exponent) - h.lowerIndex + 1
            XCTAssertGreaterThan(2 * spanned, h.binCount - 1, "\(name): \(spanned) of \(h.binCount) bins in use")
            XCTAssertGreaterThanOrEqual(gridIndex(hi, exponent: h.exponent - 1) - gridIndex(lo, exponent: h.exponent - 1), h.binCount, name)
        }
    }

    func test_binsAreTheDyadicGridAndTheDataFillOverHalfTheWindow() {
        var random = TestRandom(seed: 341)
        checkGrid([random.floats(5000)], "gaussian")
        checkGrid((0..<6).map { i in random.floats(200).map { $0 * 0.01 + (i % 2 == 0 ? 1 : -1) * Float(i * i) } }, "growing both ways")
        checkGrid([random.floats(2000).map { abs($0) + 1000 }], "offset far from 0")
        checkGrid([random.floats(2000).map { -abs($0) - 1e-3 }], "negative only")
        checkGrid([random.floats(3000)], anchoredAtZero: true, "|x| anchored at 0")
        checkGrid([[Float](repeating: -7.25, count: 10)], "one repeated value")
        checkGrid([[0, 0, -0.0]], "zeros")
        checkGrid([random.floats(500).map { $0 * Float.leastNonzeroMagnitude * 20 }], "subnormals")
        checkGrid([random.floats(500).map { $0 * 1e30 }, [Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude]], "up to Float.max")
        checkGrid((0..<5).map { i in random.floats(300).map { $0 * Float(1 << (2 * i)) } }, bins: 2048, "2048 bins")
    }

    func test_aRepeatedValueSitsInOneBinAtFloatResolution() {
        let h = histogram([[2.75, 2.75], [2.75]])
        XCTAssertEqual(h.binWidth, Double(Float(2.75).ulp))
        XCTAssertEqual(h.counts.filter { $0 > 0 }, [3])
        XCTAssertEqual(h.quantile(0.5), 2.75)
        let zeros = histogram([[0, 0]])
        XCTAssertEqual(zeros.binWidth, Double(Float.leastNonzeroMagnitude))
        XCTAssertEqual(zeros.lowerIndex, 0)
        XCTAssertEqual(zeros.counts[0], 2)
    }

    func test_aWindowStraddlesZeroAndAnchoredWindowsStartThere() {
        let h = histogram([[-3, 5]], bins: 64)
        // [-3, 5] needs 8 units: bins of 1/4 from -3 hold [-3, 13), bins of 1/8 only [-3, 5).
        XCTAssertEqual(h.binWidth, 0.25)
        XCTAssertEqual(h.lower, -3)
        XCTAssertEqual(h.counts[0], 1)
        XCTAssertEqual(h.counts[32], 1)
        let anchored = histogram([[-3, 5]], bins: 64, anchoredAtZero: true)
        XCTAssertEqual(anchored.lower, 0)
        XCTAssertEqual(anchored.binWidth, 0.125)
        XCTAssertEqual(anchored.counts[24], 1)
        XCTAssertEqual(anchored.counts[40], 1)
    }
}
