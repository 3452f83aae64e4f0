import OnboardQuant
import OnboardTestSupport
import XCTest

final class PerPatchOutlierTests: XCTestCase {
    /// Post-LayerNorm-like tokens: each token position has its own spread, and a fixed share of values
    /// are outliers far beyond the threshold.
    private func tokens(seed: UInt64, batches: Int, tokens: Int, channels: Int, outlierEvery: Int) -> [[Float]] {
        var random = TestRandom(seed: seed)
        var counter = 0
        return (0..<batches).map { _ in
            var batch = [Float](repeating: 0, count: tokens * channels)
            for t in 0..<tokens {
                let spread = 0.05 + 1.5 * Float(t % 7) / 6
                for c in 0..<channels {
                    counter += 1
                    if counter % outlierEvery == 0 {
                        batch[t * channels + c] = (counter % 2 == 0 ? 1 : -1) * (12 + 20 * random.generator.nextUniform())
                    } else {
                        batch[t * channels + c] = max(-4.9, min(4.9, random.generator.nextGaussian() * spread))
                    }
                }
            }
            return batch
        }
    }

    func test_outlierFractionIsReportedAsConfigured() throws {
        let data = tokens(seed: 1, batches: 4, tokens: 16, channels: 64, outlierEvery: 128)
        let q = try PerPatchOutlierQuantizer(calibration: data, tokens: 16, channels: 64, bits: 4, threshold: 5, item: "fc1.in")
        let result = try q.fakeQuantize(data[0] + data[1], item: "fc1.in")
        XCTAssertEqual(result.outlierFraction, 1.0 / 128, accuracy: 1e-12)
        for (x, y) in zip(data[0] + data[1], result.values) where abs(x) > 5 { XCTAssertEqual(x, y) }  // kept exactly
        XCTAssertEqual(q.params.count, 16)
    }

    func test_perPatchOutlierAwareBeatsPerTensorOnTokensWithOutliers() throws {
        let calibration = tokens(seed: 2, batches: 8, tokens: 16, channels: 64, outlierEvery: 150)
        let test = tokens(seed: 3, batches: 1, tokens: 16, channels: 64, outlierEvery: 150)[0]
        let q = try PerPatchOutlierQuantizer(calibration: calibration, tokens: 16, channels: 64, bits: 4, threshold: 5, item: "qkv.in")
        let ours = try q.fakeQuantize(test, item: "qkv.in").values
        var observer = makeObserver(.minmax, item: "qkv.in", options: ObserverOptions())
        for batch in calibration { try observer.observe(batch) }
        let tensor = try observer.quantParams(bits: 4, symmetric: false)
        let baseline = test.map { tensor.fakeQuantize($0) }
        let oursMSE = QuantMetrics.mse(test, ours), baselineMSE = QuantMetrics.mse(test, baseline)
        print("per-patch outlier-aware 4-bit MSE \(oursMSE) vs per-tensor \(baselineMSE)")
        XCTAssertLessThan(oursMSE, baselineMSE * 0.05)
    }

    func test_badShapesAndValuesAreErrorsNamingTheItem() throws {
        XCTAssertThrowsError(try PerPatchOutlierQuantizer(calibration: [[1, 2, 3]], tokens: 2, channels: 2, bits: 4, threshold: 5, item: "fc1.in")) {
            XCTAssertTrue("\($0)".contains("fc1.in"))
        }
        let q = try PerPatchOutlierQuantizer(calibration: [[1, 2, 3, 4]], tokens: 2, channels: 2, bits: 4, threshold: 5, item: "fc1.in")
        XCTAssertThrowsError(try q.fakeQuantize([1, .nan, 2, 3], item: "fc1.in")) { XCTAssertTrue("\($0)".contains("fc1.in")) }
    }
}
