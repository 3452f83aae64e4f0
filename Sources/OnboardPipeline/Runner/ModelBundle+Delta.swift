import OnboardCore
import OnboardModels
import OnboardQuant

extension ModelBundle {
    /// The bundle at `directory`, or the variant `directory + delta` when a delta is given.
    public static func open(_ directory: String, delta: String?, log: ProgressLog) throws -> ModelBundle {
        var bundle = try ModelBundle(directory: directory)
        if let delta { try bundle.apply(delta: delta, log: log) }
        return bundle
    }

    /// `apply(delta:)`, logged.
    public mutating func apply(delta: String, log: ProgressLog) throws {
        let report = try apply(delta: delta)
        log.line("delta: merged \(report.tensors.count) changed tensors of \(delta) (\(String(format: "%.1f", report.ratio))x) "
                 + "into \(weightsPath) at load")
    }

    /// Makes this bundle the fine-tuned variant `base + delta`: the delta (`onboard delta compress`
    /// against this bundle's `model.safetensors`) is decoded and merged once, into the weights the
    /// graphs and the quantizer take; the full fine-tuned weights are never written. Nothing is
    /// merged if any of it is refused. A quantized bundle takes no delta: its weights are codes.
    @discardableResult
    public mutating func apply(delta: String) throws -> DeltaFile.ApplyReport {
        if try QuantizedBundle.plan(of: self) != nil {
            throw OnboardError.invalidArgument("--delta: \(directory) is quantized; merge the delta into its float bundle instead "
                                               + "(onboard quantize --model FLOAT --delta \(delta) gives the INT8 variant)")
        }
        let merged = try DeltaFile.merge(base: try SafeTensorsFile(path: weightsPath), delta: delta)
        weightOverrides = merged.tensors
        deltaPath = delta
        return merged.report
    }
}
