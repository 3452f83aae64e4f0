import OnboardCore
import OnboardSensors

/// Ground truth made from a reference model's detections, for sets without annotations (users' own
/// recordings): the reference boxes scoring at least `minScore` become ground-truth boxes (one
/// "point" each, so the devkit's empty-box filter keeps them), placed against each sample's LIDAR_TOP
/// ego pose as real ground truth is. Scoring another model against it with `DetectionEvaluation`
/// gives agreement figures (mAP, TP errors, NDS) with the same metric code.
public enum PseudoGroundTruth {
    public static let defaultMinScore = 0.3

    /// - Parameters:
    ///   - reference: the reference detections of every sample in `sampleTokens`.
    public static func make(reference: EvalBoxes, sampleTokens: [String], tables: NuScenesTables,
                            minScore: Double = defaultMinScore) throws -> GroundTruth {
        var boxes = EvalBoxes()
        var ego: [String: SIMD3<Double>] = [:]
        for token in sampleTokens {
            ego[token] = try GroundTruth.egoTranslation(tables: tables, sample: token)
            boxes.add(reference[token].filter { $0.detectionScore >= minScore }.map(groundTruthBox), to: token)
        }
        return GroundTruth(sampleTokens: sampleTokens, boxes: boxes, egoTranslations: ego, bicycleRacks: [:])
    }

    /// A detection as a ground-truth box: no score, one point.
    static func groundTruthBox(_ box: EvalBox) -> EvalBox {
        EvalBox(sampleToken: box.sampleToken, translation: box.translation, size: box.size, rotation: box.rotation,
                velocity: box.velocity, numPoints: 1, detectionName: box.detectionName, attributeName: box.attributeName)
    }

    /// True when none of the samples has an annotation of any category.
    public static func isUnannotated(tables: NuScenesTables, sampleTokens: [String]) -> Bool {
        sampleTokens.allSatisfy { tables.annotations(ofSample: $0).isEmpty }
    }
}
