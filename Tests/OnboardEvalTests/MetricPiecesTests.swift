import OnboardEval
import XCTest

/// The metric's building blocks against values worked out by hand from the devkit's definitions.
final class MetricPiecesTests: XCTestCase {
    func box(_ token: String = "s", x: Double, y: Double = 0, name: String = "car", score: Double = -1,
             yaw: Double = 0, size: SIMD3<Double> = [2, 4, 1.5], velocity: SIMD2<Double> = [0, 0],
             attribute: String = "", points: Int = -1) -> EvalBox {
        EvalBox(sampleToken: token, translation: [x, y, 0], size: size,
                rotation: [cos(yaw / 2), 0, 0, sin(yaw / 2)], velocity: velocity, numPoints: points,
                detectionName: name, detectionScore: score, attributeName: attribute)
    }

    func test_unitLinspace_hasNumpysGrid() {
        let grid = NumpyMath.unitLinspace(101)
        XCTAssertEqual(grid.count, 101)
        XCTAssertEqual(grid[0], 0)
        XCTAssertEqual(grid[3], 3 * 0.01)  // numpy multiplies by the step, it does not divide
        XCTAssertEqual(grid[100], 1)
    }

    func test_interp_followsNumpyAtTiesAndEdges() {
        // Repeated abscissae: the value at an exact hit is the last duplicate's; between, the segment
        // from the last duplicate.
        let xp = [0.25, 0.5, 0.5, 1.0], fp = [1.0, 0.8, 0.6, 0.2]
        let y = NumpyMath.interp([0.0, 0.25, 0.5, 0.75, 1.0, 1.5], xp, fp, right: 0)
        XCTAssertEqual(y[0], 1.0)  // left default: fp[0]
        XCTAssertEqual(y[1], 1.0)
        XCTAssertEqual(y[2], 0.6)
        XCTAssertEqual(y[3], 0.4, accuracy: 1e-15)
        XCTAssertEqual(y[4], 0.2)
        XCTAssertEqual(y[5], 0.0)  // right
        XCTAssertEqual(NumpyMath.interp([0.1, 0.5, 0.9], [0.5], [3.0], left: 1, right: 2), [1, 3, 2])
    }

    func test_cumulativeMean_skipsNaN_andAllNaNGivesOnes() {
        XCTAssertEqual(NumpyMath.cumulativeMean([.nan, 2, .nan, 4]), [0, 2, 2, 3])
        XCTAssertEqual(NumpyMath.cumulativeMean([.nan, .nan]), [1, 1])
    }

    func test_averagePrecision_clipsMinRecallAndMinPrecision() {
        var data = MetricData.noPredictions
        // Precision 1 up to recall 0.5 then 0.05 (below the minimum precision).
        data.precision = (0..<101).map { $0 <= 50 ? 1.0 : 0.05 }
        // Bins 11...50 count (0.9 each after subtracting 0.1), 51...100 clip to 0: 40 * 0.9 / 90 / 0.9.
        XCTAssertEqual(Accumulate.averagePrecision(data, minRecall: 0.1, minPrecision: 0.1), 40.0 / 90.0, accuracy: 1e-12)
        data.precision = [Double](repeating: 1, count: 101)
        XCTAssertEqual(Accumulate.averagePrecision(data, minRecall: 0.1, minPrecision: 0.1), 1, accuracy: 1e-12)
    }

    func test_tpError_isOneBelowMinRecall_elseMeanUpToMaxRecall() {
        var data = MetricData.noPredictions
        data.errors["trans_err"] = (0..<101).map { Double($0) }
        data.confidence = (0..<101).map { $0 <= 10 ? 0.5 : 0 }  // max recall index 10 < 11
        XCTAssertEqual(Accumulate.tpError(data, minRecall: 0.1, metric: "trans_err"), 1)
        data.confidence = (0..<101).map { $0 <= 20 ? 0.5 : 0 }  // indices 11...20
        XCTAssertEqual(Accumulate.tpError(data, minRecall: 0.1, metric: "trans_err"), 15.5, accuracy: 1e-12)
    }

    func test_yawDifference_usesThePeriod() {
        let gt = box(x: 0, yaw: 0.1), flipped = box(x: 0, yaw: 0.1 + .pi)
        XCTAssertEqual(BoxErrors.yawDifference(gt, flipped, period: 2 * .pi), .pi, accuracy: 1e-12)
        XCTAssertEqual(BoxErrors.yawDifference(gt, flipped, period: .pi), 0, accuracy: 1e-12)
        // Wrap-around: 3.1 and -3.1 are 0.083 apart.
        XCTAssertEqual(BoxErrors.yawDifference(box(x: 0, yaw: 3.1), box(x: 0, yaw: -3.1), period: 2 * .pi),
                       2 * .pi - 6.2, accuracy: 1e-12)
        XCTAssertEqual(BoxErrors.angleDifference(-0.5, 0.3, period: 2 * .pi), -0.8, accuracy: 1e-12)
    }

    func test_scaleIoU_andAttributeError() {
        let gt = box(x: 0, size: [2, 4, 1], attribute: "vehicle.moving")
        let pred = box(x: 5, size: [1, 4, 2], attribute: "vehicle.parked")
        // Intersection 1*4*1 = 4, union 8 + 8 - 4 = 12.
        XCTAssertEqual(BoxErrors.scaleIoU(gt, pred), 4.0 / 12.0, accuracy: 1e-15)
        XCTAssertEqual(BoxErrors.attributeError(gt, pred), 1)
        XCTAssertTrue(BoxErrors.attributeError(box(x: 0), pred).isNaN)
    }

    func test_matching_isGreedyByScore_nearestGroundTruthFirst() throws {
        var truth = EvalBoxes(), predictions = EvalBoxes()
        truth.add([box(x: 0), box(x: 1.5)], to: "s")
        // The best-scored prediction sits between both and takes the nearer one (x=1.5); the next one,
        // nearest to x=1.5 too, must fall back to x=0, which is beyond 0.5 m: a false positive at 0.5 m.
        predictions.add([box(x: 1.2, score: 0.5), box(x: 1.0, score: 0.9)], to: "s")
        let strict = Accumulate.metricData(groundTruth: truth, predictions: predictions, className: "car", threshold: 0.6)
        // Order 0.9 (TP, d=0.5), 0.5 (FP: x=0 is 1.2 away): precision [1, 0.5] at recall [0.5, 0.5].
        // numpy's interp returns the last duplicate at recall 0.5 exactly (checked with numpy 1.26).
        XCTAssertEqual(strict.precision[49], 1)
        XCTAssertEqual(strict.precision[50], 0.5)
        XCTAssertEqual(strict.precision[51], 0)
        XCTAssertEqual(strict.confidence[49], 0.9)
        XCTAssertEqual(strict.confidence[50], 0.5)
        XCTAssertEqual(strict.maxRecallIndex, 50)
        XCTAssertEqual(strict.errors["trans_err"]?[20] ?? -1, 0.5, accuracy: 1e-12)
        let loose = Accumulate.metricData(groundTruth: truth, predictions: predictions, className: "car", threshold: 2)
        XCTAssertEqual(loose.maxRecallIndex, 100)
        XCTAssertEqual(loose.precision[100], 1)
    }

    func test_matching_breaksScoreTiesByLaterBoxFirst() {
        var truth = EvalBoxes(), predictions = EvalBoxes()
        truth.add([box(x: 0)], to: "s")
        // Equal scores: the devkit visits the later box first, so the far one (x=0.4) takes the GT.
        predictions.add([box(x: 0.1, score: 0.7), box(x: 0.4, score: 0.7)], to: "s")
        let data = Accumulate.metricData(groundTruth: truth, predictions: predictions, className: "car", threshold: 1)
        XCTAssertEqual(data.errors["trans_err"]?[50] ?? -1, 0.4, accuracy: 1e-12)
    }

    func test_matching_prefersTheFirstGroundTruthAtEqualDistance() {
        var truth = EvalBoxes(), predictions = EvalBoxes()
        truth.add([box(x: -1, attribute: "vehicle.parked"), box(x: 1, attribute: "vehicle.moving")], to: "s")
        predictions.add([box(x: 0, score: 0.9, attribute: "vehicle.moving")], to: "s")
        let data = Accumulate.metricData(groundTruth: truth, predictions: predictions, className: "car", threshold: 2)
        XCTAssertEqual(data.errors["attr_err"]?[30], 1)  // matched the parked one, listed first
    }

    func test_classRangeFilter_isStrict_andZeroPointGroundTruthGoes() {
        var boxes = EvalBoxes()
        boxes.add([box(x: 40, name: "pedestrian"), box(x: 39.99, name: "pedestrian"), box(x: 49, name: "car"),
                   box(x: 31, name: "barrier"), box(x: 10, name: "car", points: 0), box(x: 11, name: "car", points: 3)],
                  to: "s")
        let withEgo = Filters.addCenterDistance(boxes, egoTranslations: ["s": [0, 0, 5]])
        let kept = Filters.filter(withEgo, config: .cvpr2019, bicycleRacks: [:])["s"]
        XCTAssertEqual(kept.map(\.translation.x), [39.99, 49, 11])
        // Ego translation shifts the distance.
        let shifted = Filters.filter(Filters.addCenterDistance(boxes, egoTranslations: ["s": [20, 0, 0]]),
                                     config: .cvpr2019, bicycleRacks: [:])["s"]
        XCTAssertEqual(shifted.map(\.translation.x), [40, 39.99, 49, 31, 11])
    }

    func test_bikeRackFilter_dropsCyclesInsideRotatedRacks() {
        let rack = box(x: 10, y: 0, name: "static_object.bicycle_rack", yaw: .pi / 2, size: [1, 4, 2])
        // The rack is rotated 90 degrees: it spans y in [-2, 2] and x in [9.5, 10.5].
        var boxes = EvalBoxes()
        boxes.add([box(x: 10.2, y: 1.8, name: "bicycle"), box(x: 11.0, y: 0, name: "bicycle"),
                   box(x: 10, y: -1.5, name: "motorcycle"), box(x: 10, y: 0, name: "pedestrian")], to: "s")
        let kept = Filters.filter(Filters.addCenterDistance(boxes, egoTranslations: ["s": .zero]),
                                  config: .cvpr2019, bicycleRacks: ["s": [rack]])["s"]
        XCTAssertEqual(kept.map(\.detectionName), ["bicycle", "pedestrian"])
        XCTAssertEqual(kept.first?.translation.x, 11.0)
    }

    func test_summary_appliesNaNRulesAndNDS() {
        let config = DetectionConfig.cvpr2019
        var aps: [String: [Double: Double]] = [:], errors: [String: [String: Double]] = [:]
        for name in config.classNames {
            aps[name] = Dictionary(uniqueKeysWithValues: config.distanceThresholds.map { ($0, 0.5) })
            errors[name] = Dictionary(uniqueKeysWithValues: DetectionConstants.tpMetricNames.map {
                ($0, DetectionEvaluation.isUndefined(metric: $0, className: name) ? .nan : 0.25)
            })
        }
        errors["car"]?["vel_err"] = 2.25  // mean vel_err over the 8 defined classes: (2.25 + 7 * 0.25) / 8 = 0.5
        let summary = MetricsSummary(config: config, labelAPs: aps, labelTPErrors: errors, evalTime: 0, meta: .object([:]))
        XCTAssertEqual(summary.meanAP, 0.5)
        XCTAssertEqual(summary.tpErrors["vel_err"] ?? -1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(summary.tpScores["trans_err"] ?? -1, 0.75, accuracy: 1e-12)
        // NDS = (5 * 0.5 + 4 * 0.75 + 0.5) / 10.
        XCTAssertEqual(summary.ndScore, 0.6, accuracy: 1e-12)
        // A metric with NaN for every class scores 0 (Python's max(0.0, nan) keeps 0.0).
        for name in config.classNames { errors[name]?["attr_err"] = .nan }
        let allNaN = MetricsSummary(config: config, labelAPs: aps, labelTPErrors: errors, evalTime: 0, meta: .object([:]))
        XCTAssertTrue(allNaN.tpErrors["attr_err"]?.isNaN ?? false)
        XCTAssertEqual(allNaN.tpScores["attr_err"], 0)
    }
}
