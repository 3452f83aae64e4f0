import Foundation
import OnboardCore
import OnboardEval
import OnboardSensors

/// `validate`'s detection metrics: both results files as `onboard eval` reads them, scored with the
/// nuScenes metric against the split's annotations, or, when the split has none, against the FP32
/// detections (score >= 0.3) as pseudo ground truth; with the drop's paired-bootstrap interval.
struct ValidationScoring {
    var fp32: MetricsSummary
    var int8: MetricsSummary
    var pseudoGroundTruth: Bool
    var dropInterval: DropInterval?

    static func score(tables: NuScenesTables, sampleTokens: [String], fp32Results: String, int8Results: String,
                      bootstrapReplicates: Int, log: ProgressLog) throws -> Self {
        let fp32 = try ResultsReader.read(path: fp32Results)
        let int8 = try ResultsReader.read(path: int8Results)
        let fp32Boxes = try fp32.boxes(forSplit: sampleTokens, path: fp32Results)
        let int8Boxes = try int8.boxes(forSplit: sampleTokens, path: int8Results)
        func interval(_ truth: GroundTruth) -> DropInterval? {
            guard bootstrapReplicates > 0 else { return nil }
            log.line("validate: drop interval, \(bootstrapReplicates) paired bootstrap replicates")
            return DropInterval.bootstrap(groundTruth: truth, fp32: fp32Boxes, int8: int8Boxes, replicates: bootstrapReplicates)
        }
        guard PseudoGroundTruth.isUnannotated(tables: tables, sampleTokens: sampleTokens) else {
            let truth = try GroundTruth(tables: tables, sampleTokens: sampleTokens)
            return Self(fp32: DetectionEvaluation.evaluate(groundTruth: truth, predictions: fp32Boxes, meta: fp32.meta),
                        int8: DetectionEvaluation.evaluate(groundTruth: truth, predictions: int8Boxes, meta: int8.meta),
                        pseudoGroundTruth: false, dropInterval: interval(truth))
        }
        let truth = try PseudoGroundTruth.make(reference: fp32Boxes, sampleTokens: sampleTokens, tables: tables)
        let rule = "FP32 detections with score >= \(PseudoGroundTruth.defaultMinScore) (the split has no annotations)"
        return Self(
            fp32: DetectionEvaluation.evaluate(groundTruth: truth, predictions: fp32Boxes, meta: marked(fp32.meta, [
                "ground_truth": .string("pseudo: " + rule),
                "reference": .string("FP32 is the reference: this summary scores FP32 against itself"),
            ])),
            int8: DetectionEvaluation.evaluate(groundTruth: truth, predictions: int8Boxes, meta: marked(int8.meta, [
                "ground_truth": .string("pseudo: " + rule),
                "agreement": .string("INT8 detections scored against FP32's: agreement, not accuracy"),
            ])),
            pseudoGroundTruth: true, dropInterval: interval(truth))
    }

    /// The results file's `meta` with the pseudo-ground-truth notes added.
    static func marked(_ meta: JSONValue, _ notes: [String: JSONValue]) -> JSONValue {
        var members = meta.object ?? [:]
        members["pseudo_ground_truth"] = .bool(true)
        members.merge(notes) { $1 }
        return .object(members)
    }
}
