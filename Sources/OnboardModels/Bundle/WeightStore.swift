import OnboardCore
import OnboardGraph

/// Strict access to a checkpoint's tensors: each is taken at most once with its expected shape,
/// and `finish()` reports whatever was left unused.
///
/// A quantized bundle stores a weight `W` as int8 codes `W` (I8) plus `W.qscale` (F32, one scale,
/// one per output channel, or [channels, groups] per group of inputs), a 2-D one with 4-bit codes as u8 `NibbleRows`; such a weight is
/// handed out as int8 codes with its scales.
public final class WeightStore {
    public static let scaleSuffix = ".qscale"

    public let file: SafeTensorsFile
    private var taken: Set<String> = []
    /// Scales of the int8 weights handed out, by name.
    public private(set) var scales: [String: [Float]] = [:]

    /// Tensors that replace the file's (a fine-tune delta merged at load), by name.
    public let overrides: [String: Tensor]

    public init(file: SafeTensorsFile, overrides: [String: Tensor] = [:]) {
        self.file = file
        self.overrides = overrides
    }

    public func contains(_ name: String) -> Bool { file.contains(name) }

    /// The f32 tensor `name`, which must have `shape`.
    public func take(_ name: String, shape: [Int]) throws -> Tensor {
        guard let entry = file.entry(name) else {
            throw OnboardError.format(path: file.path, item: name, reason: "missing tensor (expected shape \(shape))")
        }
        let nibbles = entry.dtype == .u8 && shape.count == 2 && file.contains(name + Self.scaleSuffix)
        let stored = nibbles ? [shape[0], NibbleRows.packedWidth(shape[1])] : shape
        guard entry.shape == stored else {
            throw OnboardError.format(path: file.path, item: name, reason: "shape \(entry.shape), expected \(stored)")
        }
        if let tensor = overrides[name], tensor.dtype == .f32 {
            taken.insert(name)
            return tensor
        }
        let tensor = nibbles ? NibbleRows.unpack(try file.tensor(name), width: shape[1]) : try file.tensor(name)
        if tensor.dtype == .i8, file.contains(name + Self.scaleSuffix) {
            let scale = try file.tensor(name + Self.scaleSuffix)
            let channels = shape.first ?? 1
            // [1] or [channels]; groups of a 2-D weight's inputs as [channels, groups].
            let layout = scale.rank == 1 ? scale.count <= channels : scale.rank == 2 && scale.shape[0] == channels
            guard scale.dtype == .f32, layout, QuantizedWeight.fits(scaleCount: scale.count, weightShape: shape),
                  scale.floats().allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw OnboardError.format(path: file.path, item: name + Self.scaleSuffix,
                                          reason: "must hold 1, \(channels) or [\(channels), groups] positive f32 scales")
            }
            scales[name] = scale.floats()
            taken.insert(name + Self.scaleSuffix)
        } else if tensor.dtype != .f32 {
            throw OnboardError.format(path: file.path, item: name, reason: "dtype \(entry.dtype.safetensorsName) is not a float type")
        }
        taken.insert(name)
        return tensor
    }

    /// Marks `name` as used without reading it (bookkeeping tensors such as batch norm's
    /// `num_batches_tracked`); nothing happens if the file does not hold it.
    public func discard(_ name: String) {
        if file.contains(name) { taken.insert(name) }
    }

    /// Throws if the file holds tensors the model did not use (a sign of a wrong config), apart
    /// from those under `ignoring` prefixes (parts of the bundle a graph leaves out on purpose).
    public func finish(ignoring prefixes: [String] = []) throws {
        let unused = file.names.filter { name in !taken.contains(name) && !prefixes.contains { name.hasPrefix($0) } }
        guard unused.isEmpty else {
            let shown = unused.prefix(5).joined(separator: ", ")
            throw OnboardError.format(path: file.path, item: nil,
                                      reason: "\(unused.count) tensors not used by the model config: \(shown)\(unused.count > 5 ? ", ..." : "")")
        }
    }
}
