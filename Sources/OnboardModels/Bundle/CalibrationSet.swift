import Foundation
import OnboardCore

/// Calibration inputs: a directory of `.safetensors` files (one sample each, tensors named like
/// the model's inputs), or a JSON manifest (Calibration/*.json) listing such files relative to it:
///
///     { "description": "...", "inputs": ["samples/0001.safetensors", ...] }
public struct CalibrationSet {
    public let source: String
    public let files: [String]

    public init(path: String) throws {
        source = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OnboardError.io(path: path, reason: "no such calibration set")
        }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.filter { $0.hasSuffix(".safetensors") }.sorted().map { (path as NSString).appendingPathComponent($0) }
        } else {
            let data = try InputFile.read(path, what: "calibration manifest")
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw OnboardError.format(path: path, item: nil, reason: "not a JSON calibration manifest")
            }
            guard let inputs = object["inputs"] as? [String] else {
                throw OnboardError.format(path: path, item: "inputs", reason: "must be a list of .safetensors paths")
            }
            let base = FilePaths.parent(of: path)
            files = inputs.map { $0.hasPrefix("/") ? $0 : (base as NSString).appendingPathComponent($0) }
        }
        guard !files.isEmpty else {
            throw OnboardError.format(path: path, item: nil, reason: "the calibration set is empty")
        }
    }

    /// A set of the given files.
    public init(files: [String]) {
        source = files.first ?? ""
        self.files = files
    }

    public var count: Int { files.count }

    /// Sample `index`: the tensors named in `shapes`, which must match exactly and be finite.
    public func sample(_ index: Int, shapes: [String: [Int]]) throws -> [String: Tensor] {
        let file = try SafeTensorsFile(path: files[index])
        var result: [String: Tensor] = [:]
        for (name, shape) in shapes {
            let tensor = try file.tensor(name)
            guard tensor.shape == shape, tensor.dtype == .f32 else {
                throw OnboardError.format(path: files[index], item: name, reason: "shape \(tensor.shape) \(tensor.dtype), model expects f32 \(shape)")
            }
            try tensor.requireFinite(name: name, source: files[index])
            result[name] = tensor
        }
        return result
    }
}
