import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

final class OSTQuantTests: XCTestCase {
    /// Activations with strongly unequal channel scales on top of correlated channels, and a linear layer.
    private func problem(seed: UInt64, rows: Int = 256, d: Int = 32) throws -> (x: Matrix, layer: LinearLayer) {
        var random = TestRandom(seed: seed)
        let mixing = try RandomHadamard(size: d, seed: seed).matrix
        var z = random.matrix(rows, d)
        for r in 0..<rows { for c in 0..<d { z[r, c] *= c < d / 4 ? 2 : 0.5 } }
        var x = try z.multiplied(by: mixing)
        let channelScale = (0..<d).map { c -> Float in c % 7 == 0 ? 20 : 1 + Float(c % 3) }
        for r in 0..<rows { for c in 0..<d { x[r, c] *= channelScale[c] } }
        return (x, try LinearLayer(weight: random.matrix(24, d, scale: 0.3), bias: random.floats(24, scale: 0.1)))
    }

    func test_qsurIsOneForIsotropicDataAndDropsWithImbalance() throws {
        var random = TestRandom(seed: 1)
        let isotropic = random.matrix(20000, 8)
        XCTAssertEqual(try QuantMetrics.qsur(isotropic), 1, accuracy: 0.05)
        var skewed = isotropic
        for r in 0..<skewed.rows { skewed[r, 0] *= 10 }
        XCTAssertLessThan(try QuantMetrics.qsur(skewed), 0.4)
        var shifted = isotropic
        for r in 0..<shifted.rows { shifted[r, 3] += 6 }
        XCTAssertLessThan(try QuantMetrics.qsur(shifted), try QuantMetrics.qsur(isotropic) * 0.5)
    }

    func test_pairFoldsExactlyAndTheOptimizerKeepsROrthogonal() throws {
        let (x, layer) = try problem(seed: 2)
        var optimizer = OSTOptimizer()
        optimizer.steps = 120
        let start = try OSTPair.initial(calibration: x, layer: layer)
        let (pair, history) = try optimizer.optimize(start, calibration: x, layer: layer)
        XCTAssertLessThan(try pair.rotation.orthogonalityError(), 1e-4)
        XCTAssertEqual(history, history.sorted(by: >))  // monotone
        XCTAssertLessThan(try XCTUnwrap(history.last), try XCTUnwrap(history.first) * 0.95)  // and it does improve
        let folded = try pair.fold(into: layer)
        XCTAssertLessThan(relativeError(try folded.forward(try pair.transform(x)), try layer.forward(x)), 1e-5)
    }

    func test_ostPairBeatsRotationAloneOnQSURAndError() throws {
        let (x, layer) = try problem(seed: 3)
        let (test, _) = try problem(seed: 4)
        let d = x.cols
        let rotationOnly = try OSTPair(rotation: try Hadamard(size: d).matrix, scales: [Float](repeating: 1, count: d))
        var optimizer = OSTOptimizer()
        optimizer.steps = 200
        let (pair, _) = try optimizer.optimize(try OSTPair.initial(calibration: x, layer: layer), calibration: x, layer: layer)
        let qsurRotation = try QuantMetrics.qsur(try rotationOnly.transform(test)), qsurPair = try QuantMetrics.qsur(try pair.transform(test))
        let errorRotation = try optimizer.loss(rotationOnly, calibration: test, layer: layer)
        let errorPair = try optimizer.loss(pair, calibration: test, layer: layer)
        print("OST pair QSUR \(qsurPair) vs rotation alone \(qsurRotation); W4A4 output MSE \(errorPair) vs \(errorRotation)")
        XCTAssertGreaterThan(qsurPair, qsurRotation * 1.5)
        XCTAssertLessThan(errorPair, errorRotation * 0.7)
        var kl = optimizer
        kl.objective = .klTop(k: 8)
        XCTAssertLessThan(try kl.loss(pair, calibration: test, layer: layer), try kl.loss(rotationOnly, calibration: test, layer: layer))
    }
}
