import OnboardCore
@testable import OnboardEval
import XCTest

/// The paired bootstrap of the INT8 drop: a replicate must score exactly as the devkit-checked
/// evaluation of the drawn samples, each copy under its own token.
final class DropIntervalTests: XCTestCase {
    static let classes = ["car", "pedestrian", "barrier"]

    /// Ground truth of `samples` samples and detections near it (some missed, some false), seeded.
    func scene(samples: Int, seed: UInt64) -> (GroundTruth, EvalBoxes) {
        var generator = SplitMix64(seed: seed)
        func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * Double(generator.nextUniform()) }
        var truth = EvalBoxes(), predictions = EvalBoxes()
        var ego: [String: SIMD3<Double>] = [:]
        var tokens: [String] = []
        for sample in 0..<samples {
            let token = "sample-\(sample)"
            tokens.append(token)
            ego[token] = .zero
            var gt: [EvalBox] = [], detections: [EvalBox] = []
            for index in 0..<(2 + sample % 4) {
                let name = Self.classes[(sample + index) % Self.classes.count]
                let centre = SIMD3(uniform(-30, 30), uniform(-30, 30), 1)
                let box = EvalBox(sampleToken: token, translation: centre, size: SIMD3(2, 4, 1.5), rotation: SIMD4(1, 0, 0, 0),
                                  velocity: SIMD2(uniform(-1, 1), 0), numPoints: 10, detectionName: name,
                                  attributeName: name == "car" ? "vehicle.moving" : name == "pedestrian" ? "pedestrian.moving" : "")
                gt.append(box)
                guard uniform(0, 1) < 0.8 else { continue }
                var detection = box
                detection.translation += SIMD3(uniform(-2, 2), uniform(-2, 2), 0)
                detection.detectionScore = uniform(0.05, 1)
                detection.numPoints = -1
                detections.append(detection)
            }
            for _ in 0..<3 {
                detections.append(EvalBox(sampleToken: token, translation: SIMD3(uniform(-30, 30), uniform(-30, 30), 1),
                                          size: SIMD3(2, 4, 1.5), rotation: SIMD4(1, 0, 0, 0), velocity: .zero,
                                          detectionName: Self.classes[Int(uniform(0, 3)) % 3], detectionScore: uniform(0.05, 0.6)))
            }
            truth.add(gt, to: token)
            predictions.add(detections, to: token)
        }
        return (GroundTruth(sampleTokens: tokens, boxes: truth, egoTranslations: ego, bicycleRacks: [:]), predictions)
    }

    /// The set with sample i repeated counts[i] times, copy k of a sample named "token#k".
    func copies(_ truth: GroundTruth, _ predictions: EvalBoxes, counts: [Int]) -> (GroundTruth, EvalBoxes) {
        var boxes = EvalBoxes(), detections = EvalBoxes()
        var ego: [String: SIMD3<Double>] = [:]
        var tokens: [String] = []
        for (token, count) in zip(truth.sampleTokens, counts) {
            for copy in 0..<count {
                let name = "\(token)#\(copy)"
                tokens.append(name)
                ego[name] = truth.egoTranslations[token]
                boxes.add(truth.boxes[token].map { var box = $0; box.sampleToken = name; return box }, to: name)
                detections.add(predictions[token].map { var box = $0; box.sampleToken = name; return box }, to: name)
            }
        }
        return (GroundTruth(sampleTokens: tokens, boxes: boxes, egoTranslations: ego, bicycleRacks: [:]), detections)
    }

    func test_aReplicateScoresAsEvaluatingItsDrawnCopies() {
        let (truth, predictions) = scene(samples: 9, seed: 3)
        let matches = PrecisionMatches(groundTruth: truth, predictions: predictions, config: .cvpr2019)
        for counts in [[1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 0, 1, 3, 0, 1, 0, 2, 0], [0, 0, 0, 0, 9, 0, 0, 0, 0]] {
            let (copiedTruth, copiedPredictions) = copies(truth, predictions, counts: counts)
            let expected = DetectionEvaluation.evaluate(groundTruth: copiedTruth, predictions: copiedPredictions)
            let replicate = matches.summary(counts: counts)
            XCTAssertGreaterThan(expected.meanAP, 0.05)
            XCTAssertEqual(replicate.meanAP, expected.meanAP, accuracy: 1e-12, "\(counts)")
            XCTAssertEqual(replicate.ndScore, expected.ndScore, accuracy: 1e-12, "\(counts)")
            XCTAssertEqual(replicate.labelAPs, expected.labelAPs, "\(counts)")
        }
    }

    func test_identicalDetectionsDropNothingOnEveryReplicate() {
        let (truth, predictions) = scene(samples: 12, seed: 5)
        let interval = DropInterval.bootstrap(groundTruth: truth, fp32: predictions, int8: predictions, replicates: 40)
        XCTAssertEqual(interval.replicates, 40)
        XCTAssertEqual(interval.meanAP, [0, 0])
        XCTAssertEqual(interval.ndScore, [0, 0])
    }

    func test_theIntervalHoldsTheDropAndTheSameSeedGivesTheSameInterval() {
        let (truth, fp32) = scene(samples: 40, seed: 7)
        var generator = SplitMix64(seed: 11)
        var int8 = EvalBoxes()
        for token in fp32.sampleTokens {
            int8.add(fp32[token].map { box in
                var noisy = box
                noisy.detectionScore = max(0.01, box.detectionScore + 0.3 * Double(generator.nextGaussian()))
                noisy.translation.x += 0.8 * Double(generator.nextGaussian())
                return noisy
            }, to: token)
        }
        let a = DetectionEvaluation.evaluate(groundTruth: truth, predictions: fp32)
        let b = DetectionEvaluation.evaluate(groundTruth: truth, predictions: int8)
        let drop = b.meanAP / a.meanAP - 1
        XCTAssertLessThan(drop, -0.02)
        let interval = DropInterval.bootstrap(groundTruth: truth, fp32: fp32, int8: int8, replicates: 100, seed: 1)
        XCTAssertLessThan(interval.meanAP[0], drop)
        XCTAssertGreaterThan(interval.meanAP[1], drop)
        XCTAssertLessThan(interval.ndScore[0], interval.ndScore[1])
        XCTAssertEqual(DropInterval.bootstrap(groundTruth: truth, fp32: fp32, int8: int8, replicates: 100, seed: 1), interval)
        XCTAssertNotEqual(DropInterval.bootstrap(groundTruth: truth, fp32: fp32, int8: int8, replicates: 100, seed: 2), interval)
    }

    func test_quantileInterpolatesAsNumpy() {
        XCTAssertEqual(DropInterval.quantile([1, 2, 3, 4], 0.5), 2.5)
        XCTAssertEqual(DropInterval.quantile([1, 2, 3, 4], 0.025), 1.075, accuracy: 1e-12)
        XCTAssertEqual(DropInterval.quantile([5], 0.975), 5)
        XCTAssertTrue(DropInterval.quantile([], 0.5).isNaN)
    }
}
