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
}
