import Foundation
import OnboardCore
import OnboardGraph

/// Writing and reading quantized bundles: the float bundle's `config.json`, a `model.safetensors`
/// where each integer op's weight `W` is stored as int8 codes `W` plus scales `W.qscale` ([1],
/// [channels], or [channels, groups] for a low-bit recipe's grouped weights; 4-bit
/// codes of a 2-D weight two per byte, u8 `NibbleRows`), and the
/// plan in `quant.json`. The whole directory is staged beside the target and put in its place when complete.
public enum QuantizedBundle {
    public static let planFile = "quant.json"
    /// The rotation folded into the weights (a recipe's `rotation`), copied from the float bundle
    /// that was quantized: what rebuilds the float reference of the rotated tensors.
    public static let rotationFile = "rotation.safetensors"

    /// Writes the bundle to `directory`, which must be absent, empty or an earlier Onboard output
    /// unless `force` (`StagingDirectory`).
    public static func save(
        source: ModelBundle, plan: QuantizationPlan, weights: [String: QuantizedWeight], to directory: String, force: Bool = false
    ) throws {
        let staging = try StagingDirectory(target: directory, force: force)
        do {
            do {
                try FileManager.default.copyItem(atPath: source.configPath, toPath: staging.file("config.json"))
            } catch {
                throw OnboardError.io(path: source.configPath, reason: "cannot copy into the quantized bundle: \(error.localizedDescription)")
            }
            let file = try SafeTensorsFile(path: source.weightsPath)
            var tensors: [(name: String, tensor: Tensor)] = []
            for entry in file.entries {
                if let quantized = weights[entry.name] ?? stackedInProjection(entry.name, weights) {
                    let fourBit = quantized.codes.rank == 2 && quantized.fitsFourBits
                    tensors.append((entry.name, fourBit ? NibbleRows.pack(quantized.codes) : quantized.codes))
                    tensors.append((entry.name + WeightStore.scaleSuffix, try Tensor(shape: scaleShape(quantized), values: quantized.scales)))
                } else {
                    tensors.append((entry.name, try source.weightOverrides[entry.name] ?? file.tensor(entry)))
                }
            }
            try SafeTensorsWriter.write(tensors, metadata: ["quantization": "onboard-int8"], to: staging.file("model.safetensors"))
            let rotation = (source.directory as NSString).appendingPathComponent(rotationFile)
            if FileManager.default.fileExists(atPath: rotation) {
                do {
                    try FileManager.default.copyItem(atPath: rotation, toPath: staging.file(rotationFile))
                } catch {
                    throw OnboardError.io(path: rotation, reason: "cannot copy into the quantized bundle: \(error.localizedDescription)")
                }
            }
            try plan.save(path: staging.file(planFile))
        } catch {
            staging.discard()
            throw error
        }
        try staging.commit()
    }

    /// PyTorch's `nn.MultiheadAttention` stores its q, k and v projections as one `X.in_proj_weight`
    /// [3E, E]; the graph runs them as `X.q_proj.weight`, `X.k_proj.weight` and `X.v_proj.weight`
    /// (`PETRDecoderBuilder`). Their codes stacked in the file's layout, each row with its part's
    /// scales; nil unless all three are quantized alike (a projection of constants, computed once
    /// when the executor is built, keeps the stack in float).
    static func stackedInProjection(_ name: String, _ weights: [String: QuantizedWeight]) -> QuantizedWeight? {
        guard name.hasSuffix("in_proj_weight") else { return nil }
        let prefix = name.dropLast("in_proj_weight".count)
        let parts = ["q", "k", "v"].compactMap { weights["\(prefix)\($0)_proj.weight"] }
        guard parts.count == 3, let shape = parts.first?.codes.shape, shape.count == 2,
              parts.allSatisfy({ $0.codes.shape == shape && $0.codes.dtype == .i8 }) else { return nil }
        let rows = shape[0]
        // One scale per part becomes one per row; per-row and grouped scales are already row-major.
        let rowScales = parts.map { $0.scales.count == 1 ? [Float](repeating: $0.scales[0], count: rows) : $0.scales }
        guard rowScales.allSatisfy({ $0.count == rowScales[0].count }) else { return nil }
        let codes = Tensor(zeros: [3 * rows, shape[1]], dtype: .i8)
        for (index, part) in parts.enumerated() {
            (codes.rawPointer + index * part.codes.byteCount).copyMemory(from: part.codes.rawPointer, byteCount: part.codes.byteCount)
        }
        return QuantizedWeight(codes: codes, scales: rowScales.flatMap { $0 })
    }

    /// [1] or [channels]; [channels, groups] for grouped weights.
    static func scaleShape(_ weight: QuantizedWeight) -> [Int] {
        guard weight.codes.rank == 2, let rows = weight.codes.shape.first, rows > 0, weight.scales.count > rows else {
            return [weight.scales.count]
        }
        return [rows, weight.scales.count / rows]
    }

    /// The bundle's plan, or nil for a float bundle.
    public static func plan(of bundle: ModelBundle) throws -> QuantizationPlan? {
        let path = (bundle.directory as NSString).appendingPathComponent(planFile)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try QuantizationPlan.load(path: path)
    }
}
