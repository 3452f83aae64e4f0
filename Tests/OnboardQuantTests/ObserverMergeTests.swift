import Foundation
import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Observer states merged from any split of the batches equal one observer's over all of them, bit for bit.
final class ObserverMergeTests: XCTestCase {
    static let mergeable: [ObserverKind] = [.minmax, .percentile, .mse, .kl, .klRelu, .quantile]

    /// Batch counts of the parts; 0 is a part that observed nothing.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    static let splits: [[Int]] = [[8], [4, 4], [2, 5, 1], [1, 7], [3, 0, 5], [1, 1, 1, 1, 1, 1, 1, 1]]

    private func observer(_ kind: ObserverKind, _ batches: ArraySlice<[Float]>, options: ObserverOptions) throws -> any RangeObserver {
        var observer = makeObserver(kind, item: "blocks.0.fc1", options: options)
        for batch in batches { try observer.observe(batch) }
        return observer
    }

    /// Each part observed apart, its state sent through JSON, and merged in part order.
    private func merged(_ kind: ObserverKind, _ batches: [[Float]], split: [Int], options: ObserverOptions) throws -> any RangeObserver {
        var merged = makeObserver(kind, item: "blocks.0.fc1", options: options)
        var start = 0
        for count in split {
            let part = try observer(kind, batches[start..<(start + count)], options: options)
            start += count
            let json = try Self.encoder.encode(part.state)
            try merged.merge(try JSONDecoder().decode(ObserverState.self, from: json))
        }
        XCTAssertEqual(start, batches.count)
        return merged
    }

    private func datasets() -> [(name: String, batches: [[Float]])] {
        var random = TestRandom(seed: 340)
        let gaussian = (0..<8).map { _ in random.floats(777) }
        let negative = (0..<8).map { _ in random.floats(300, scale: 3).map { -abs($0) - 0.5 } }
        let positive = (0..<8).map { _ in random.floats(300).map { abs($0) * 1e-3 } }
        let constant = (0..<8).map { _ in [Float](repeating: 2.75, count: 64) }
        // Each batch reaches further out than the last, alternately below and above.
        let growing = (0..<8).map { i in random.floats(500, scale: 0.1).map { $0 + (i % 2 == 0 ? -1 : 1) * Float(1 << i) } }
        let tiny = (0..<8).map { _ in random.floats(100).map { $0 * Float.leastNonzeroMagnitude * 64 } }
        let huge = (0..<8).map { _ in random.floats(100).map { $0 * 1e30 } }
        let straddling = (0..<8).map { i in [Float(i) - 3.5, 0, -0.0, Float(i) * 0.125] }
        return [("gaussian", gaussian), ("negative", negative), ("positive", positive), ("constant", constant),
                ("growing", growing), ("subnormal", tiny), ("1e30", huge), ("straddling 0", straddling)]
    }

    func test_mergedPartsEqualOneObserverBitForBit() throws {
        var options = ObserverOptions()
        options.histogramBins = 256
        for kind in Self.mergeable {
            for (name, batches) in datasets() {
                let whole = try observer(kind, batches[...], options: options)
                let range = try whole.calibratedRange()
                let wholeJSON = try Self.encoder.encode(whole.state)
                for split in Self.splits {
                    let parts = try merged(kind, batches, split: split, options: options)
                    XCTAssertEqual(parts.state, whole.state, "\(kind) \(name) \(split)")
                    XCTAssertEqual(try Self.encoder.encode(parts.state), wholeJSON, "\(kind) \(name) \(split)")
                    let partsRange = try parts.calibratedRange()
                    XCTAssertEqual(partsRange.min.bitPattern, range.min.bitPattern, "\(kind) \(name) \(split)")
                    XCTAssertEqual(partsRange.max.bitPattern, range.max.bitPattern, "\(kind) \(name) \(split)")
                }
            }
        }
    }

    func test_statesDependOnlyOnTheValuesNotTheirOrder() throws {
        for kind in Self.mergeable {
            for (name, batches) in datasets() {
                let forward = try observer(kind, batches[...], options: ObserverOptions())
                let reversed = try observer(kind, Array(batches.reversed().map { $0.reversed() })[...], options: ObserverOptions())
                let regrouped = try observer(kind, [batches.flatMap { $0 }][...], options: ObserverOptions())
                XCTAssertEqual(reversed.state, forward.state, "\(kind) \(name)")
                XCTAssertEqual(regrouped.state, forward.state, "\(kind) \(name)")
            }
        }
    }

    func test_stateSurvivesJSONExactly() throws {
        let batches = datasets()[0].batches
        for kind in ObserverKind.allCases {
            let state = try observer(kind, batches[...], options: ObserverOptions()).state
            let decoded = try JSONDecoder().decode(ObserverState.self, from: try Self.encoder.encode(state))
            XCTAssertEqual(decoded, state, "\(kind)")
            var restored = makeObserver(kind, item: "x", options: ObserverOptions())
            try restored.merge(decoded)
            XCTAssertEqual(restored.state, state, "\(kind)")
        }
        XCTAssertEqual(makeObserver(.kl, item: "x", options: ObserverOptions()).state.histogram?.counts, [])
    }

    func test_emaRefusesToMergeTwoObservedStates() throws {
        let batches = datasets()[0].batches
        let first = try observer(.ema, batches[0..<4], options: ObserverOptions())
        var second = try observer(.ema, batches[4...], options: ObserverOptions())
        XCTAssertThrowsError(try second.merge(first.state)) { error in
            XCTAssertTrue(error is OnboardError)
            let text = "\(error)"
            XCTAssertTrue(text.contains("blocks.0.fc1") && text.contains("order of the batches"), text)
            XCTAssertTrue(text.contains("minmax, percentile, mse, kl, kl_relu, quantile"), text)
        }
        // A side that observed nothing merges: nothing depends on the order then.
        var empty = makeObserver(.ema, item: "blocks.0.fc1", options: ObserverOptions())
        try empty.merge(first.state)
        XCTAssertEqual(empty.state, first.state)
        try empty.merge(makeObserver(.ema, item: "blocks.0.fc1", options: ObserverOptions()).state)
        XCTAssertEqual(empty.state, first.state)
        XCTAssertFalse(ObserverKind.ema.mergesExactly)
        XCTAssertEqual(ObserverKind.allCases.filter(\.mergesExactly), Self.mergeable)
    }

    func test_mismatchedStatesAreErrorsNamingTheField() throws {
        let batches = datasets()[0].batches
        let percentile = try observer(.percentile, batches[...], options: ObserverOptions())
        var kl = makeObserver(.kl, item: "neck.conv", options: ObserverOptions())
        assertMergeError(try kl.merge(percentile.state), contains: ["neck.conv", "'kind'", "kl", "percentile"])
        var coarse = ObserverOptions()
        coarse.histogramBins = 512
        var other = makeObserver(.percentile, item: "neck.conv", options: coarse)
        assertMergeError(try other.merge(percentile.state), contains: ["'histogram.bins'", "512", "2048"])
        var state = percentile.state
        state.histogram?.counts[0] = 0.5
        assertMergeError(try other.merge(state), contains: ["'histogram.bins'"])
        var same = makeObserver(.percentile, item: "neck.conv", options: ObserverOptions())
        assertMergeError(try same.merge(state), contains: ["'histogram.counts'", "0.5"])
        state = percentile.state
        state.histogram?.offset = 2047
        assertMergeError(try same.merge(state), contains: ["'histogram.offset'"])
        state = percentile.state
        state.max = nil
        assertMergeError(try same.merge(state), contains: ["'min'"])
        state = percentile.state
        state.histogram?.max = 0.1
        state.max = 0.1
        assertMergeError(try same.merge(state), contains: ["'histogram.max'", "not a finite Float"])
        XCTAssertNil(same.state.min, "a refused merge changes nothing")
    }

    private func assertMergeError(_ body: @autoclosure () throws -> Void, contains parts: [String], line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertTrue(error is OnboardError, line: line)
            for part in parts { XCTAssertTrue("\(error)".contains(part), "\(error) lacks \(part)", line: line) }
        }
    }
}
