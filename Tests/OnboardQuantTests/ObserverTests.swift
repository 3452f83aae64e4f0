import Foundation
import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class ObserverTests: XCTestCase {
    private func feed(_ kind: ObserverKind, _ batches: [[Float]], options: ObserverOptions = ObserverOptions()) throws -> (min: Float, max: Float) {
        var observer = makeObserver(kind, item: "act", options: options)
        for batch in batches { try observer.observe(batch) }
        return try observer.calibratedRange()
    }

    private func gaussianBatches(seed: UInt64, count: Int = 8, size: Int = 4096, scale: Float = 1) -> [[Float]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in random.floats(size, scale: scale) }
    }

    func test_everyObserverRejectsNonFiniteValuesAndEmptyCalibration() {
        for kind in ObserverKind.allCases {
            var observer = makeObserver(kind, item: "blocks.3.fc1", options: ObserverOptions())
            XCTAssertThrowsError(try observer.calibratedRange(), "\(kind)") { XCTAssertTrue("\($0)".contains("blocks.3.fc1")) }
            for bad in [Float.nan, .infinity, -.infinity] {
                XCTAssertThrowsError(try observer.observe([1, bad, 2]), "\(kind)") { error in
                    XCTAssertTrue("\(error)".contains("blocks.3.fc1"), "\(error)")
                    XCTAssertTrue(error is OnboardError)
                }
            }
        }
    }

    func test_minMaxAndEMAFollowTheirDefinitions() throws {
        let batches: [[Float]] = [[-1, 2], [0, 4], [-3, 1]]
        let minmax = try feed(.minmax, batches)
        XCTAssertEqual(minmax.min, -3)
        XCTAssertEqual(minmax.max, 4)
        var options = ObserverOptions()
        options.emaMomentum = 0.5
        let ema = try feed(.ema, batches, options: options)
        XCTAssertEqual(ema.min, Float(0.5 * (0.5 * -1 + 0.5 * 0) + 0.5 * -3), accuracy: 1e-6)
        XCTAssertEqual(ema.max, Float(0.5 * (0.5 * 2 + 0.5 * 4) + 0.5 * 1), accuracy: 1e-6)
    }

    func test_percentileMatchesTheSortedDataWithinABin() throws {
        // Batches of growing spread force the histogram to grow several times.
        let batches = (0..<6).map { i in gaussianBatches(seed: 30 + UInt64(i), count: 1, scale: Float(1 << i) * 0.25)[0] }
        var options = ObserverOptions()
        options.percentile = 99
        let range = try feed(.percentile, batches, options: options)
        let sorted = batches.flatMap { $0 }.sorted()
        let exactHi = sorted[Int(0.99 * Double(sorted.count))], exactLo = sorted[Int(0.01 * Double(sorted.count))]
        let binWidth = (sorted.last! - sorted.first!) / Float(options.histogramBins) * 2
        XCTAssertEqual(range.max, exactHi, accuracy: binWidth * 2)
        XCTAssertEqual(range.min, exactLo, accuracy: binWidth * 2)
    }

    func test_searchingObserversClipGaussianTailsAndBeatMinMaxError() throws {
        var batches = gaussianBatches(seed: 40)
        batches[3][17] = 40  // one far outlier
        let all = batches.flatMap { $0 }
        func error(_ range: (min: Float, max: Float), bits: Int) -> Double {
            let p = QuantParams.affine(min: range.min, max: range.max, bits: bits, symmetric: false)
            return QuantMetrics.mse(all, all.map { p.fakeQuantize($0) })
        }
        var options = ObserverOptions()
        options.bits = 4
        let minmax = try feed(.minmax, batches, options: options)
        XCTAssertEqual(minmax.max, 40)
        for kind in [ObserverKind.mse, .kl, .quantile, .percentile] {
            let range = try feed(kind, batches, options: options)
            XCTAssertLessThan(range.max, 10, "\(kind)")
            XCTAssertLessThan(error(range, bits: 4), error(minmax, bits: 4) * 0.5, "\(kind) range \(range)")
        }
    }

    func test_klReluIgnoresTheNegativeHalfThatReLUZeroes() throws {
        // Pre-ReLU conv outputs: a large negative lobe and a modest positive one.
        var random = TestRandom(seed: 50)
        let values = (0..<20000).map { _ -> Float in
            let g = random.generator.nextGaussian()
            return g < 0 ? g * 8 : g
        }
        var options = ObserverOptions()
        options.bits = 8
        let plain = try feed(.kl, [values], options: options)
        let relu = try feed(.klRelu, [values], options: options)
        XCTAssertEqual(relu.min, 0)
        XCTAssertLessThan(relu.max, plain.max)
        let positives = values.map { max($0, 0) }
        func reluError(_ range: (min: Float, max: Float)) -> Double {
            let p = QuantParams.affine(min: range.min, max: range.max, bits: 8, symmetric: false)
            return QuantMetrics.mse(positives, values.map { max(p.fakeQuantize($0), 0) })
        }
        XCTAssertLessThan(reluError(relu), reluError(plain) * 0.5)
    }

    func test_observersAreIncrementalAndOrderIndependent() throws {
        let batches = gaussianBatches(seed: 60, count: 4)
        for kind in [ObserverKind.percentile, .mse, .quantile, .kl] {
            // The histogram's grid depends on the values alone, so any order gives the same range.
            let forward = try feed(kind, batches), backward = try feed(kind, batches.reversed())
            XCTAssertEqual(forward.max, backward.max, "\(kind)")
            XCTAssertEqual(forward.min, backward.min, "\(kind)")
            XCTAssertEqual(try feed(kind, [batches.flatMap { $0 }]).max, forward.max, "\(kind)")
        }
    }

    func test_optionsDecodeFromPartialJSONWithDefaults() throws {
        let options = try JSONDecoder().decode(ObserverOptions.self, from: Data(#"{"bits": 4, "percentile": 99.9}"#.utf8))
        XCTAssertEqual(options.bits, 4)
        XCTAssertEqual(options.percentile, 99.9)
        XCTAssertEqual(options.histogramBins, 2048)
        XCTAssertEqual(options.emaMomentum, 0.9)
        XCTAssertEqual(ObserverKind(rawValue: "kl_relu"), .klRelu)
        let roundTrip = try JSONDecoder().decode(ObserverOptions.self, from: try JSONEncoder().encode(options))
        XCTAssertEqual(roundTrip.quantiles, options.quantiles)
    }
}
