import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardText

/// Calibrates a sentence encoder on a text set: each sentence runs unpadded at its own length
/// (one graph per length, in order of length), the observers' statistics merge across lengths
/// exactly as blocks of one run do, and the plan is made once for the encoder's node names.
public enum TextCalibration {
    /// The calibration text the kit ships (Calibration/README.md names its source).
    public static let shippedSet = "Calibration/text/python-docstrings.txt"
    public static let defaultCount = 128

    /// The plan for `recipe` from the first `count` sentences of `texts`; a smoothing recipe first
    /// sets `encoder.transforms` (measured on the same sentences).
    public static func plan(
        encoder: inout SentenceEncoder, recipe: QuantizationRecipe, texts: [String], count: Int = defaultCount, threads: Int,
        progress: ProgressLog = .silent, log: ProgressLog = .silent
    ) throws -> QuantizationPlan {
        // Every sequence length gets FP32 executors of its own.
        try AlignedBuffer.reusingFreedBlocks { try calibratedPlan(encoder: &encoder, recipe: recipe, texts: texts, count: count, threads: threads,
                                                                  progress: progress, log: log) }
    }

    private static func calibratedPlan(
        encoder: inout SentenceEncoder, recipe: QuantizationRecipe, texts: [String], count: Int, threads: Int,
        progress: ProgressLog, log: ProgressLog
    ) throws -> QuantizationPlan {
        let ids = encoder.encode(Array(texts.prefix(count))).ids
        encoder.transforms = nil
        switch recipe.smoothing {
        case nil: break
        case .smoothQuant:
            let (transforms, qsur) = try BertSmoothing.transforms(encoder: encoder, recipe: recipe, ids: ids, threads: threads)
            encoder.transforms = transforms
            log.line(String(format: "smoothquant (alpha %.2f): QSUR^(1/d) of the Q/K/V and FC1 inputs %.4f -> %.4f (geometric mean of %d)",
                            recipe.smoothingAlpha, qsur.before, qsur.after, 2 * encoder.config.numHiddenLayers))
        case .scaledSiLU:
            throw OnboardError.invalidArgument("smoothing \"scaled_silu\" applies to a Vision Mamba; a BERT encoder takes \"smoothquant\"")
        }
        if let rotation = recipe.rotation {
            encoder.transforms = try BertRotation.rotating(encoder.transforms, config: encoder.config, rotation: rotation, seed: recipe.rotationSeed)
            log.line("rotation: R_qk and R_ov on every head (\(rotation.rawValue), head_dim \(encoder.config.headDim))")
        }
        let statistics = try observe(encoder: encoder, recipe: recipe, ids: ids, threads: threads, progress: progress)
        return try Calibrator.plan(graph: try encoder.graph(batch: 1, length: 2), recipe: recipe, statistics: statistics)
    }

    /// The observers' statistics over `ids` (sample i is the i-th sequence by increasing length).
    public static func observe(
        encoder: SentenceEncoder, recipe: QuantizationRecipe, ids: [[Int32]], threads: Int, progress: ProgressLog = .silent
    ) throws -> CalibrationStatistics {
        guard !ids.isEmpty else { throw OnboardError.invalidArgument("the calibration text set is empty") }
        let sorted = ids.sorted { $0.count < $1.count }
        var merged: CalibrationStatistics?
        let packedWeights = PackedWeightCache()
        var start = 0
        while start < sorted.count {
            let length = sorted[start].count
            var end = start
            while end < sorted.count, sorted[end].count == length { end += 1 }
            let graph = try encoder.graph(batch: 1, length: length)
            let block = try Calibrator.observe(graph: graph, recipe: recipe, samples: start..<end, threads: threads,
                                                  packedWeights: packedWeights) { i in
                [BertBuilder.inputName: try Tensor(shape: [1, length], dtype: .i32, integers: sorted[i])]
            }
            if merged == nil { merged = block } else { try merged?.merge(block) }
            progress.progress("calibrate", end, sorted.count)
            start = end
        }
        guard let merged else { throw OnboardError.invalidArgument("the calibration text set is empty") }
        return merged
    }
}
