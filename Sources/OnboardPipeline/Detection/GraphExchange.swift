import Foundation
import OnboardCore
import OnboardModels
import OnboardSensors

/// A detection's PETR graph tensors exchanged with another runtime (ONNX Runtime, TensorRT on the
/// board), one safetensors file per sample named by its token: `record` writes what Onboard's graph
/// takes and gives, so that the exported model can be run on the same inputs; `replay` decodes and
/// scores what the other runtime computed instead of running the graph.
public enum GraphExchange {
    /// Each sample's graph inputs (`images` f32, `coords3d`), `lidar2img` and graph outputs
    /// (`cls_scores`, `bbox_raw`, `pos_embed`, `memory`) go into this directory.
    case record(directory: String)
    /// The graph is not run: each sample's `cls_scores`, `bbox_raw`, `pos_embed` and `memory` are
    /// read from this directory.
    case replay(directory: String)

    var records: Bool {
        if case .record = self { return true }
        return false
    }

    /// `directory/<token>.safetensors`; refuses a token that is not a plain file name.
    static func file(of sample: CameraSample, in directory: String) throws -> String {
        let token = sample.token
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard !token.isEmpty, !token.hasPrefix("."), token.unicodeScalars.allSatisfy(allowed.contains) else {
            throw OnboardError.format(path: directory, item: "sample \(token)",
                                      reason: "its token is not a plain file name (letters, digits, '-', '_', '.'), so it cannot name a graph file")
        }
        return (directory as NSString).appendingPathComponent(token + ".safetensors")
    }
}

extension DetectionPipeline {
    /// Writes one sample's graph inputs and outputs into `directory`.
    func record(_ sample: CameraSample, inputs: [String: Tensor], outputs: PETROutputs, in directory: String) throws {
        let imageName = model.built.input.name
        guard let image = inputs[imageName], image.dtype == .f32, let lidar2img = inputs["lidar2img"] else {
            throw OnboardError.model(item: "detection pipeline", reason: "sample \(sample.token): no f32 \(imageName) to record")
        }
        let tensors: [(name: String, tensor: Tensor)] = [
            (imageName, image), ("coords3d", outputs.coords3d), ("lidar2img", lidar2img),
            ("cls_scores", outputs.allClassScores), ("bbox_raw", outputs.bboxRaw), ("pos_embed", outputs.posEmbed),
            ("memory", outputs.memory),
        ]
        try SafeTensorsWriter.write(tensors, metadata: ["sample_token": sample.token],
                                    to: try GraphExchange.file(of: sample, in: directory))
    }

    /// One sample's outputs as another runtime computed them, decoded.
    func replayed(_ sample: CameraSample, from directory: String) throws -> PETROutputs {
        let path = try GraphExchange.file(of: sample, in: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw OnboardError.io(path: path, reason: "no graph outputs for sample \(sample.token)")
        }
        let file = try SafeTensorsFile(path: path)
        var outputs: [String: Tensor] = [:]
        for name in ["cls_scores", "bbox_raw", "pos_embed", "memory"] where file.contains(name) {
            outputs[name] = try file.tensor(name)
        }
        let coords = try model.coords3d(lidar2img: lidar2img(sample), source: "sample \(sample.token)")
        return try model.decode(graphOutputs: outputs, coords3d: coords, source: path)
    }
}
