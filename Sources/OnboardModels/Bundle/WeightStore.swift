import OnboardCore

/// Strict access to a checkpoint's tensors: each is taken at most once with its expected shape,
/// and `finish()` reports whatever was left unused.
public final class WeightStore {
    public let file: SafeTensorsFile
    private var taken: Set<String> = []

    public init(file: SafeTensorsFile) { self.file = file }

    public func contains(_ name: String) -> Bool { file.contains(name) }

    /// The f32 tensor `name`, which must have `shape`.
    public func take(_ name: String, shape: [Int]) throws -> Tensor {
        guard let entry = file.entry(name) else {
            throw OnboardError.format(path: file.path, item: name, reason: "missing tensor (expected shape \(shape))")
        }
        guard entry.shape == shape else {
            throw OnboardError.format(path: file.path, item: name, reason: "shape \(entry.shape), expected \(shape)")
        }
        let tensor = try file.tensor(name)
        guard tensor.dtype == .f32 else {
            throw OnboardError.format(path: file.path, item: name, reason: "dtype \(entry.dtype.safetensorsName) is not a float type")
        }
        taken.insert(name)
        return tensor
    }

    /// Throws if the file holds tensors the model did not use (a sign of a wrong config).
    public func finish() throws {
        let unused = file.names.filter { !taken.contains($0) }
        guard unused.isEmpty else {
            let shown = unused.prefix(5).joined(separator: ", ")
            throw OnboardError.format(path: file.path, item: nil,
                                      reason: "\(unused.count) tensors not used by the model config: \(shown)\(unused.count > 5 ? ", ..." : "")")
        }
    }
}
