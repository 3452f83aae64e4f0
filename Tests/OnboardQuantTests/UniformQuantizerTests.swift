import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class UniformQuantizerTests: XCTestCase {
    func test_everyGranularityKeepsErrorWithinHalfItsStep() throws {
        var random = TestRandom(seed: 21)
        let shape = [6, 10]
        let values = random.floats(60, scale: 2)
        let cases: [(Granularity, Int)] = [(.perTensor, 1), (.perChannel(axis: 0), 6), (.perChannel(axis: 1), 10),
                                          (.perGroup(size: 4), 18), (.perGroup(size: 10), 6), (.perToken, 6)]
        for (granularity, slots) in cases {
            for bits in [2, 4, 8] {
                for symmetric in [true, false] {
                    let q = try UniformQuantizer(bits: bits, symmetric: symmetric, granularity: granularity)
                    let layout = try q.layout(shape: shape, item: "x")
                    XCTAssertEqual(layout.slotCount, slots, "\(granularity)")
                    let params = try values.withUnsafeBufferPointer { try q.calibrate($0, shape: shape, item: "x") }
                    let codes = try values.withUnsafeBufferPointer { try q.quantize($0, shape: shape, params: params, item: "x") }
                    let restored = try q.dequantize(codes, shape: shape, params: params, item: "x")
                    for i in values.indices {
                        let p = params[layout.slot(i)]
                        XCTAssertTrue((p.qmin...p.qmax).contains(codes[i]))
                        XCTAssertLessThanOrEqual(abs(restored[i] - values[i]), p.scale / 2 * 1.0001, "\(granularity) bits \(bits)")
                    }
                }
            }
        }
    }

    func test_finerGranularityHelpsChannelsOfDifferentScale() throws {
        var random = TestRandom(seed: 22)
        let rows = 16, cols = 64
        var w = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows { for c in 0..<cols { w[r * cols + c] = random.generator.nextGaussian() * Float(r + 1) * 0.1 } }
        func mse(_ g: Granularity) throws -> Double {
            QuantMetrics.mse(w, try UniformQuantizer(bits: 4, symmetric: true, granularity: g).fakeQuantize(w, shape: [rows, cols]))
        }
        let tensor = try mse(.perTensor), channel = try mse(.perChannel(axis: 0)), group = try mse(.perGroup(size: 16))
        XCTAssertLessThan(channel, tensor * 0.5)
        XCTAssertLessThan(group, channel)
    }

    func test_badInputIsAnErrorNamingTheItem() throws {
        XCTAssertThrowsError(try UniformQuantizer(bits: 9, symmetric: true, granularity: .perTensor))
        XCTAssertThrowsError(try UniformQuantizer(bits: 4, symmetric: true, granularity: .perGroup(size: 0)))
        let q = try UniformQuantizer(bits: 8, symmetric: false, granularity: .perChannel(axis: 2))
        XCTAssertThrowsError(try q.fakeQuantize([1, 2], shape: [2], item: "w")) { error in
            XCTAssertTrue("\(error)".contains("w"))
        }
        let t = try UniformQuantizer(bits: 8, symmetric: false, granularity: .perTensor)
        XCTAssertThrowsError(try t.fakeQuantize([1, .nan], shape: [2], item: "act")) { error in
            XCTAssertTrue("\(error)".contains("act"))
        }
    }
}
