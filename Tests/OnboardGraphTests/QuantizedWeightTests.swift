import OnboardCore
import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Weight quantization per channel and per group: each channel's scale is its own clip search,
/// so the codes do not depend on how many threads share the channels.
final class QuantizedWeightTests: XCTestCase {
    func test_mseClippedGroupsAreTheSameOnOneThreadAndOnThree() throws {
        var random = TestRandom(seed: 41)
        let values = random.floats(48 * 256).enumerated().map { i, x in x * (i % 97 == 0 ? 12 : 1) }  // outliers: some groups clip
        let weight = try Tensor(shape: [48, 256], values: values)
        for groupSize in [nil, 64] as [Int?] {
            let one = QuantizedWeight(quantizing: weight, perChannel: true, clip: .mse, bits: 4, groupSize: groupSize, threads: 1)
            let three = QuantizedWeight(quantizing: weight, perChannel: true, clip: .mse, bits: 4, groupSize: groupSize, threads: 3)
            XCTAssertEqual(one.scales.count, 48 * (groupSize.map { 256 / $0 } ?? 1))
            XCTAssertEqual(one.scales, three.scales)
            XCTAssertEqual(codes(one), codes(three))
            // Each scale is the channel's (or group's) own search: checked against the search itself.
            let width = 256 / (one.scales.count / 48)
            for index in [0, 5, one.scales.count - 1] {
                let clip = values[(index * width)..<((index + 1) * width)].withUnsafeBufferPointer { SymmetricClipSearch.mseClip($0, bits: 4) }
                XCTAssertEqual(one.scales[index], QuantParams.affine(min: -clip, max: clip, bits: 4, symmetric: true).scale)
            }
            XCTAssertTrue(zip(one.scales, maxScales(weight, groupSize: groupSize)).contains { $0 < $1 }, "no group was clipped")
        }
    }

    private func codes(_ weight: QuantizedWeight) -> [Int8] {
        Array(UnsafeBufferPointer(start: weight.codes.rawPointer.assumingMemoryBound(to: Int8.self), count: weight.codes.count))
    }

    private func maxScales(_ weight: Tensor, groupSize: Int?) -> [Float] {
        QuantizedWeight(quantizing: weight, perChannel: true, clip: .max, bits: 4, groupSize: groupSize, threads: 1).scales
    }
}
