import OnboardQuant
import OnboardTestSupport
import XCTest

final class CFWSTests: XCTestCase {
    /// A fused RepVGG kernel: 3x3 branch + 1x1 branch + identity, each through its own BN scale.
    private func repConvKernel(out: Int, channels: Int, seed: UInt64) -> [Float] {
        var random = TestRandom(seed: seed)
        var w = random.floats(out * channels * 9, scale: 0.05)
        for o in 0..<out {
            for i in 0..<channels {
                let center = ((o * channels + i) * 9) + 4
                w[center] += random.generator.nextGaussian() * 0.3 + (o == i ? 1.2 : 0)
            }
        }
        return w
    }

    func test_splitPartsAddUpAndCoarseIsCentreOnly() throws {
        let w = repConvKernel(out: 8, channels: 8, seed: 1)
        let split = try CFWS.split(w, shape: [8, 8, 3, 3], bits: 8)
        for (i, c) in split.coarse.enumerated() where i % 9 != 4 { XCTAssertEqual(c, 0) }
        XCTAssertLessThan(maxErrors(split.reconstructed, w).error, 0.01)
        XCTAssertThrowsError(try CFWS.split(w, shape: [8, 8, 9], bits: 8, item: "stage1.conv")) { XCTAssertTrue("\($0)".contains("stage1.conv")) }
        XCTAssertThrowsError(try CFWS.split([Float](repeating: 0, count: 16), shape: [1, 4, 2, 2], bits: 8))
    }

    func test_cfwsBeatsOneScalePerChannelOnRepConvKernels() throws {
        let shape = [32, 32, 3, 3]
        let w = repConvKernel(out: 32, channels: 32, seed: 2)
        for bits in [4, 8] {
            let split = try CFWS.split(w, shape: shape, bits: bits)
            let single = try UniformQuantizer(bits: bits, symmetric: true, granularity: .perChannel(axis: 0)).fakeQuantize(w, shape: shape)
            let cfws = QuantMetrics.mse(w, split.reconstructed), baseline = QuantMetrics.mse(w, single)
            print("CFWS \(bits)-bit kernel MSE \(cfws) vs one scale per channel \(baseline)")
            XCTAssertLessThan(cfws, baseline * 0.1)
        }
    }

    /// A Linear weight with a few large weights per row: the sparse coarse part takes them, the fine
    /// 4-bit part then has a narrow range, and the pair reconstructs the weight far better than
    /// plain per-channel 4-bit codes.
    func test_linearSplitKeepsTheLargestWeightsCoarseAndBeatsPlainFourBits() throws {
        var random = TestRandom(seed: 5)
        let rows = 16, columns = 256
        var w = random.floats(rows * columns, scale: 0.02)
        for row in 0..<rows { for c in [3, 77] { w[row * columns + c] = (row % 2 == 0 ? 1 : -1) * 0.5 } }
        let split = try CFWS.splitLinear(w, rows: rows, columns: columns, bits: 4, fraction: 0.008, mseClip: false)
        XCTAssertEqual(split.coarse.count, 2 * rows)
        XCTAssertEqual(Set(split.coarse.map(\.column)), [3, 77])
        XCTAssertTrue(split.fineCodes.allSatisfy { (-7...7).contains($0) })
        let plain = try UniformQuantizer(bits: 4, symmetric: true, granularity: .perChannel(axis: 0)).fakeQuantize(w, shape: [rows, columns])
        let splitMSE = QuantMetrics.mse(w, split.reconstructed(rows: rows, columns: columns)), plainMSE = QuantMetrics.mse(w, plain)
        XCTAssertLessThan(splitMSE, 0.05 * plainMSE)
        XCTAssertThrowsError(try CFWS.splitLinear(w, rows: rows, columns: columns + 1, bits: 4, fraction: 0.01, mseClip: false))
    }
}
