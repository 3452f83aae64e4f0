import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class KLTTests: XCTestCase {
    /// Activations whose covariance is `H diag(λ) H^T` with very uneven λ: exactly the case where a plain
    /// Hadamard rotation leaves the channel variances unequal (they become λ) and MambaQuant's K·H does not.
    private func imbalanced(rows: Int, channels: Int, seed: UInt64) throws -> Matrix {
        var random = TestRandom(seed: seed)
        var z = random.matrix(rows, channels)
        for r in 0..<rows { for c in 0..<channels { z[r, c] *= c < 4 ? 12 : 0.5 } }
        return try z.multiplied(by: try Hadamard(size: channels).matrix, transposeOther: true)
    }

    private func channelVariances(_ x: Matrix) -> [Double] {
        (0..<x.cols).map { c in
            let column = (0..<x.rows).map { Double(x[$0, c]) }
            let mean = column.reduce(0, +) / Double(x.rows)
            return column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.rows - 1)
        }
    }

    func test_eigenDecompositionReconstructsTheCovariance() throws {
        var accumulator = CovarianceAccumulator(channels: 16, item: "x")
        try accumulator.observe(try imbalanced(rows: 300, channels: 16, seed: 1).values)
        let c = try accumulator.covariance()
        let (values, vectors) = try SymmetricEigen.decompose(c)
        XCTAssertEqual(values, values.sorted(by: >))
        XCTAssertLessThan(try vectors.orthogonalityError(), 1e-4)
        let rebuilt = try vectors.multiplied(by: Matrix.diagonal(values)).multiplied(by: vectors, transposeOther: true)
        XCTAssertLessThan(relativeError(rebuilt, c), 1e-4)
    }

    func test_kltHadamardEqualizesChannelVariances() throws {
        let x = try imbalanced(rows: 2000, channels: 32, seed: 2)
        var accumulator = CovarianceAccumulator(channels: 32, item: "x")
        for chunk in stride(from: 0, to: x.values.count, by: 32 * 500) {  // incremental batches
            try accumulator.observe(Array(x.values[chunk..<min(chunk + 32 * 500, x.values.count)]))
        }
        let r = try KLTRotation.kltHadamard(try accumulator.covariance(), seed: 7)
        XCTAssertLessThan(try r.orthogonalityError(), 1e-4)
        let before = channelVariances(try x.multiplied(by: try Hadamard(size: 32).matrix))
        let after = channelVariances(try x.multiplied(by: r))
        func spread(_ v: [Double]) -> Double { v.max()! / v.min()! }
        XCTAssertGreaterThan(spread(before), 100)
        XCTAssertLessThan(spread(after), 1.001)
    }

    func test_kltHadamardBeatsPlainHadamardOnChannelImbalancedActivations() throws {
        let calibration = try imbalanced(rows: 1000, channels: 64, seed: 3)
        let test = try imbalanced(rows: 500, channels: 64, seed: 4)
        var accumulator = CovarianceAccumulator(channels: 64, item: "x")
        try accumulator.observe(calibration.values)
        let klt = try KLTRotation.kltHadamard(try accumulator.covariance())
        let plain = try Hadamard(size: 64).matrix
        // Per-token 4-bit activations in the rotated basis, rotated back for the error.
        func sqnr(_ r: Matrix) throws -> Double {
            let rotated = try test.multiplied(by: r)
            let q = try UniformQuantizer(bits: 4, symmetric: true, granularity: .perToken)
            let restored = try Matrix(rows: rotated.rows, cols: rotated.cols,
                                      values: try q.fakeQuantize(rotated.values, shape: [rotated.rows, rotated.cols]))
            return QuantMetrics.sqnr(test.values, try restored.multiplied(by: r, transposeOther: true).values)
        }
        let kltSQNR = try sqnr(klt), plainSQNR = try sqnr(plain)
        print("KLT-Hadamard 4-bit per-token SQNR \(kltSQNR) dB vs plain Hadamard \(plainSQNR) dB")
        XCTAssertGreaterThan(kltSQNR, plainSQNR + 3)
    }

    func test_nonFiniteCalibrationIsAnError() {
        var accumulator = CovarianceAccumulator(channels: 2, item: "in_proj.in")
        XCTAssertThrowsError(try accumulator.observe([1, .nan])) { XCTAssertTrue("\($0)".contains("in_proj.in")) }
        XCTAssertThrowsError(try accumulator.covariance())
    }
}
