import Foundation
import OnboardCore
import OnboardGraph

/// Writing and reading quantized bundles: the float bundle's `config.json`, a `model.safetensors`
/// where each integer op's weight `W` is stored as int8 codes `W` plus scales `W.qscale`, and the
/// plan in `quant.json`. The whole directory is written beside the target and renamed into place.
public enum QuantizedBundle {
    public static let planFile = "quant.json"

    public static func save(
        source: ModelBundle, plan: QuantizationPlan, weights: [String: QuantizedWeight], to directory: String
    ) throws {
        let fileManager = FileManager.default
        let parent = (directory as NSString).deletingLastPathComponent
        let staging = (parent.isEmpty ? "." : parent as NSString).appendingPathComponent(
            ".\((directory as NSString).lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try? fileManager.removeItem(atPath: staging)
        do {
            try fileManager.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try fileManager.copyItem(atPath: source.configPath, toPath: (staging as NSString).appendingPathComponent("config.json"))
            let file = try SafeTensorsFile(path: source.weightsPath)
            var tensors: [(name: String, tensor: Tensor)] = []
            for entry in file.entries {
                if let quantized = weights[entry.name] {
                    tensors.append((entry.name, quantized.codes))
                    tensors.append((entry.name + WeightStore.scaleSuffix, try Tensor(shape: [quantized.scales.count], values: quantized.scales)))
                } else {
                    tensors.append((entry.name, file.tensor(entry)))
                }
            }
            try SafeTensorsWriter.write(tensors, metadata: ["quantization": "onboard-int8"],
                                        to: (staging as NSString).appendingPathComponent("model.safetensors"))
            try plan.save(path: (staging as NSString).appendingPathComponent(planFile))
            if fileManager.fileExists(atPath: directory) {
                guard (try? fileManager.contentsOfDirectory(atPath: directory))?.contains("config.json") == true
                        || (try? fileManager.contentsOfDirectory(atPath: directory))?.isEmpty == true else {
                    throw OnboardError.io(path: directory, reason: "exists and is not a model bundle; refusing to replace it")
                }
                try fileManager.removeItem(atPath: directory)
            }
            try fileManager.moveItem(atPath: staging, toPath: directory)
        } catch {
            try? fileManager.removeItem(atPath: staging)
            if let error = error as? OnboardError { throw error }
            throw OnboardError.io(path: directory, reason: "cannot write the quantized bundle: \(error.localizedDescription)")
        }
    }

    /// The bundle's plan, or nil for a float bundle.
    public static func plan(of bundle: ModelBundle) throws -> QuantizationPlan? {
        let path = (bundle.directory as NSString).appendingPathComponent(planFile)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try QuantizationPlan.load(path: path)
    }
}
