import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class DeltaDQTests: XCTestCase {
    /// Fine-tuning deltas are heavy-tailed: most entries tiny, a few percent carry the update.
    private func delta(rows: Int, cols: Int, seed: UInt64) -> [Float] {
        var random = TestRandom(seed: seed)
        return (0..<(rows * cols)).map { _ in
            let g = random.generator.nextGaussian()
            return random.generator.nextUniform() < 0.04 ? g * 0.05 : g * 0.002
        }
    }

    func test_encodeDecodeRoundTripsAndAccountingMatchesTheStream() throws {
        let rows = 6, cols = 100
        let d = delta(rows: rows, cols: cols, seed: 1)
        for splitBits in [0, 1, 2] {
            for selection in [DeltaDQ.Selection.magnitude, .random] {
                let config = DeltaDQ.Config(groupSize: 16, bits: 4, splitBits: splitBits, keepPerGroup: 3, selection: selection)
                let encoded = try DeltaDQ.encode(d, rows: rows, cols: cols, config: config, seed: 9)
                XCTAssertEqual(encoded.payloadBits, config.payloadBits(rows: rows, cols: cols))
                XCTAssertEqual(encoded.stream.count, (encoded.streamBits + 7) / 8)
                let decoded = try DeltaDQ.decode(encoded)
                for r in 0..<rows {
                    // 7 groups (the last of 4 values): 6 x 3 + 3 kept per row, each within half a step.
                    let kept = (0..<cols).filter { decoded[r * cols + $0] != 0 }
                    XCTAssertLessThanOrEqual(kept.count, 21)
                    if selection == .magnitude {
                        for c in kept {
                            XCTAssertLessThanOrEqual(abs(decoded[r * cols + c] - d[r * cols + c]), encoded.scales[r] / 2 * 1.001)
                        }
                    }
                }
            }
        }
        var truncated = try DeltaDQ.encode(d, rows: rows, cols: cols, config: DeltaDQ.Config(groupSize: 16, bits: 4, keepPerGroup: 3))
        truncated = DeltaDQ.Encoded(config: truncated.config, rows: rows, cols: cols, scales: truncated.scales,
                                    stream: Array(truncated.stream.prefix(10)), streamBits: 80)
        XCTAssertThrowsError(try DeltaDQ.decode(truncated, item: "blocks.0.fc1.weight")) { XCTAssertTrue("\($0)".contains("blocks.0.fc1.weight")) }
    }

    /// Seeded selection stores codes only: the decoder draws the same balanced positions again (keep
    /// per group, from the row and group), kept values are rescaled by group/keep as DARE does, and
    /// averaged over many rows the restored delta is unbiased.
    func test_seededSelectionStoresNoPositionsAndIsUnbiased() throws {
        let rows = 400, cols = 64
        var random = TestRandom(seed: 12)
        let row = random.floats(cols, scale: 0.01)
        let d = (0..<rows).flatMap { _ in row }
        let config = DeltaDQ.Config(groupSize: 16, bits: 6, splitBits: 0, keepPerGroup: 4, selection: .seeded, compact: true)
        let encoded = try DeltaDQ.encode(d, rows: rows, cols: cols, config: config)
        XCTAssertEqual(config.payloadBits(rows: rows, cols: cols), rows * (16 + 4 * 4 * 6))
        XCTAssertEqual(encoded.payloadBits, config.payloadBits(rows: rows, cols: cols))
        let decoded = try DeltaDQ.decode(encoded)
        for r in [0, 1, 399] {
            for start in stride(from: 0, to: cols, by: 16) {
                let kept = (start..<(start + 16)).filter { decoded[r * cols + $0] != 0 }.map { $0 - start }
                XCTAssertEqual(kept, DeltaDQ.seededPositions(row: r, start: start, length: 16, keep: 4), "row \(r) group \(start)")
            }
        }
        XCTAssertNotEqual(DeltaDQ.seededPositions(row: 0, start: 0, length: 16, keep: 4), DeltaDQ.seededPositions(row: 1, start: 0, length: 16, keep: 4))
        for c in 0..<cols {
            let mean = (0..<rows).reduce(Float(0)) { $0 + decoded[$1 * cols + c] } / Float(rows)
            XCTAssertEqual(mean, row[c], accuracy: 0.25 * abs(row[c]) + 0.002, "column \(c)")
        }
        let parts = DeltaDQ.Config(groupSize: 16, bits: 4, splitBits: 1, keepPerGroup: 4, selection: .seeded, compact: true)
        XCTAssertThrowsError(try DeltaDQ.encode(d, rows: rows, cols: cols, config: parts))
    }

    /// Compact encodings (delta files from version 3): positions as a bitmap where cheaper, none when
    /// every value is kept, 1-bit signs, and row scales that keep the restored row's projection on
    /// the true one equal to its energy (no shrinkage toward the base).
    func test_compactEncodingsRoundTripAndDoNotShrinkTheDelta() throws {
        let rows = 6, cols = 100
        let d = delta(rows: rows, cols: cols, seed: 4)
        for (bits, keep) in [(1, 16), (2, 16), (3, 8), (4, 3), (1, 5)] {
            let config = DeltaDQ.Config(groupSize: 16, bits: bits, splitBits: bits > 1 ? 1 : 0, keepPerGroup: keep, compact: true)
            let encoded = try DeltaDQ.encode(d, rows: rows, cols: cols, config: config)
            XCTAssertEqual(encoded.payloadBits, config.payloadBits(rows: rows, cols: cols), "bits \(bits) keep \(keep)")
            let dense = DeltaDQ.Config(groupSize: 16, bits: bits, splitBits: 0, keepPerGroup: 16, compact: true)
            if keep == 16 { XCTAssertEqual(config.payloadBits(rows: rows, cols: cols), rows * (16 + cols * bits)) }
            XCTAssertLessThanOrEqual(dense.payloadBits(rows: 1, cols: cols), 16 + cols * bits)
            let decoded = try DeltaDQ.decode(encoded)
            for r in 0..<rows {
                let row = (r * cols)..<((r + 1) * cols)
                let projection = row.reduce(0.0) { $0 + Double(decoded[$1]) * Double(d[$1]) }
                let energy = row.reduce(0.0) { $0 + Double(d[$1]) * Double(d[$1]) }
                XCTAssertEqual(projection / energy, 1, accuracy: 2e-3, "bits \(bits) keep \(keep) row \(r)")
                XCTAssertLessThanOrEqual(row.filter { decoded[$0] != 0 }.count, keep * 6 + min(keep, 4))
            }
        }
        XCTAssertThrowsError(try DeltaDQ.encode(d, rows: rows, cols: cols, config: DeltaDQ.Config(groupSize: 16, bits: 1, splitBits: 0, keepPerGroup: 4)))
    }

    func test_groupSizeSearchMeetsTheRatioAndPicksTheLeastError() throws {
        let rows = 32, cols = 256
        let d = delta(rows: rows, cols: cols, seed: 2)
        let (encoded, error) = try DeltaDQ.compress(d, rows: rows, cols: cols, ratio: 16)
        XCTAssertGreaterThanOrEqual(encoded.ratio, 16)
        for groupSize in [8, 32, 256] {
            guard let config = DeltaDQ.keepForRatio(16, rows: rows, cols: cols, groupSize: groupSize, bits: 4, splitBits: 1) else { continue }
            let other = try DeltaDQ.decode(try DeltaDQ.encode(d, rows: rows, cols: cols, config: config))
            XCTAssertLessThanOrEqual(error, QuantMetrics.mse(d, other) * 1.0000001)
        }
        XCTAssertThrowsError(try DeltaDQ.compress(d, rows: rows, cols: cols, ratio: 0.5))
        XCTAssertThrowsError(try DeltaDQ.compress(d, rows: rows, cols: cols, ratio: 1e9))
    }

    func test_deltaDQAtSixteenTimesBeatsTwoBitRoundToNearestOnOutputError() throws {
        let rows = 64, cols = 256
        let d = delta(rows: rows, cols: cols, seed: 3)
        var random = TestRandom(seed: 4)
        let calibration = random.matrix(64, cols), test = random.matrix(128, cols)
        let (encoded, _) = try DeltaDQ.compress(d, rows: rows, cols: cols, ratio: 16, calibration: calibration)
        let ours = try DeltaDQ.decode(encoded)
        let rtn = try UniformQuantizer(bits: 2, symmetric: false, granularity: .perChannel(axis: 0)).fakeQuantize(d, shape: [rows, cols])
        let rtnRatio = Double(16 * rows * cols) / Double(2 * rows * cols + 32 * rows)  // codes + f16 scale and zero point
        func outputError(_ approx: [Float]) throws -> Double {
            let exact = try test.multiplied(by: try Matrix(rows: rows, cols: cols, values: d), transposeOther: true)
            let got = try test.multiplied(by: try Matrix(rows: rows, cols: cols, values: approx), transposeOther: true)
            return relativeError(got, exact)
        }
        let oursError = try outputError(ours), rtnError = try outputError(rtn)
        print("DeltaDQ ratio \(encoded.ratio) (group \(encoded.config.groupSize), \(encoded.config.bits) bits, keep \(encoded.config.keepPerGroup)) output error \(oursError) vs 2-bit RTN ratio \(rtnRatio) error \(rtnError)")
        XCTAssertGreaterThanOrEqual(encoded.ratio, 16)
        XCTAssertLessThan(oursError, rtnError * 0.7)
    }
}
