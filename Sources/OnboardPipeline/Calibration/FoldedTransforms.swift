import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant

/// A recipe's `rotation` and `smoothing` on a float bundle: the transformed float bundle the
/// quantizer calibrates and quantizes instead, written to a scratch directory (the same function
/// in float; see `VimRotation` and `VimSmoothing`). The rotation is kept beside the weights
/// (`rotation.safetensors`) and the smoothing scales among them (`gate_scale`); both travel into
/// the quantized bundle, so that the float reference of its per-layer error can be rebuilt.
struct FoldedTransforms {
    static let rotationFile = QuantizedBundle.rotationFile
    static let rotationTensor = "residual_rotation"
    /// Calibration samples the statistics come from (MambaQuant: one image for the KLT, 128 for
    /// the smoothing scales).
    static let statisticsSamples = 16

    /// The transformed bundle, in a directory removed with `remove()` (or by an interrupt).
    let bundle: ModelBundle
    private let registration: Int

    /// nil when the recipe folds nothing. `graph` is `bundle`'s float graph and `sample` gives its
    /// inputs (the statistics are measured on the first samples).
    static func apply(to bundle: ModelBundle, recipe: QuantizationRecipe, source: String, graph: Graph, count: Int,
                      sample: (Int) throws -> [String: Tensor], threads: Int, log: ProgressLog) throws -> FoldedTransforms? {
        guard recipe.rotation != nil || recipe.smoothing != nil else { return nil }
        let trunk = try Self.trunk(of: bundle, source: source, item: recipe.rotation != nil ? "rotation" : "smoothing")
        guard recipe.smoothing == nil || recipe.smoothing == .scaledSiLU else {
            throw OnboardError.format(path: source, item: "smoothing", reason: "\"smoothquant\" applies to BERT encoders; a Vision Mamba takes \"scaled_silu\"")
        }
        let measured = recipe.rotation == .kltHadamard || recipe.smoothing != nil
        let statistics = measured ? try Statistics(trunk, graph: graph, covariance: recipe.rotation == .kltHadamard,
                                                   count: min(count, statisticsSamples), sample: sample, threads: threads) : nil
        var tensors = try bundle.allTensors()
        var rotation: Matrix?
        if let kind = recipe.rotation {
            let d = trunk.embedDim
            let matrix: Matrix
            if kind == .kltHadamard, let statistics {
                matrix = try KLTRotation.kltHadamard(try statistics.covariance.covariance(), seed: recipe.rotationSeed)
            } else {
                matrix = try recipe.rotationSeed.map { try RandomHadamard(size: d, seed: $0).matrix } ?? Hadamard(size: d).matrix
            }
            try VimRotation.rotate(&tensors, trunk: trunk, by: matrix)
            rotation = matrix
            log.line("rotation: \(kind.rawValue) of the \(d)-channel residual stream folded into the weights")
        }
        if recipe.smoothing != nil, let statistics {
            // The mixer's inside is the same in the rotated model, so its statistics hold for it.
            for layer in 0..<trunk.depth {
                let scales = try VimSmoothing.scales(tensors, trunk: trunk, layer: layer, inputAbsMax: statistics.outProjectionMax[layer])
                try VimSmoothing.smooth(&tensors, trunk: trunk, layer: layer, scales: scales)
            }
            log.line("smoothing: scaled SiLU gates and out_proj inputs of \(trunk.depth) layers")
        }
        return try write(bundle, tensors: tensors, rotation: rotation)
    }

    /// The float bundle transformed as the quantized one was (its rotation file and gate scales);
    /// nil when it carries neither.
    static func reference(for bundle: ModelBundle, quantized: ModelBundle) throws -> FoldedTransforms? {
        let path = (quantized.directory as NSString).appendingPathComponent(rotationFile)
        let quantizedWeights = try SafeTensorsFile(path: quantized.weightsPath)
        let gates = quantizedWeights.names.filter { $0.hasSuffix(".mixer.gate_scale") }
        let rotated = FileManager.default.fileExists(atPath: path)
        guard rotated || !gates.isEmpty else { return nil }
        let trunk = try trunk(of: bundle, source: quantized.directory, item: rotated ? rotationFile : gates[0])
        var tensors = try bundle.allTensors()
        var rotation: Matrix?
        if rotated {
            let tensor = try SafeTensorsFile(path: path).tensor(rotationTensor)
            guard tensor.rank == 2, tensor.shape[0] == tensor.shape[1], tensor.dtype == .f32 else {
                throw OnboardError.format(path: path, item: rotationTensor, reason: "must be a square f32 matrix, got \(tensor.shape)")
            }
            let matrix = try Matrix(rows: tensor.shape[0], cols: tensor.shape[1], values: tensor.floats())
            try VimRotation.rotate(&tensors, trunk: trunk, by: matrix)
            rotation = matrix
        }
        for layer in 0..<trunk.depth {
            let name = "\(trunk.prefix)layers.\(layer).mixer.gate_scale"
            guard quantizedWeights.contains(name) else { continue }
            try VimSmoothing.smooth(&tensors, trunk: trunk, layer: layer, scales: try quantizedWeights.tensor(name).floats())
        }
        return try write(bundle, tensors: tensors, rotation: rotation)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: bundle.directory)
        Temporaries.release(registration)
    }

    private static func trunk(of bundle: ModelBundle, source: String, item: String) throws -> VimTrunk {
        guard let trunk = bundle.vimTrunk else {
            throw OnboardError.format(path: source, item: item,
                                      reason: "\(bundle.directory) has no residual stream to rotate or gate to smooth "
                                        + "(a Vim classifier or a PETR detector with a Vim backbone)")
        }
        return trunk
    }

    /// What the transforms read from float runs of the calibration samples: the covariance of the
    /// RMS-normalized residual stream entering the last layer (what its in_proj reads once the
    /// norm's weight is folded; MambaQuant's KLT input), and each out_proj input's |max| per channel.
    struct Statistics {
        var covariance: CovarianceAccumulator
        var outProjectionMax: [[Float]]

        init(_ trunk: VimTrunk, graph: Graph, covariance wanted: Bool, count: Int, sample: (Int) throws -> [String: Tensor],
             threads: Int) throws {
            let d = trunk.embedDim
            covariance = CovarianceAccumulator(channels: d, item: trunk.lastResidualValue)
            outProjectionMax = Array(repeating: [], count: trunk.depth)
            let residual = wanted ? try Self.value(graph, trunk.lastResidualValue) : nil
            var layers: [ValueID: Int] = [:]
            for layer in 0..<trunk.depth { layers[try Self.value(graph, trunk.outProjectionInput(layer: layer))] = layer }
            let executor = try FP32Executor(graph: graph, threads: threads)
            var statistics = self
            executor.valueObserver = { id, values in
                if id == residual { try statistics.covariance.observe(Self.rmsNormalized(values, width: d)) }
                if let layer = layers[id] {
                    let inner = graph.info(id).shape.last ?? 1
                    let max = try Smoothing.channelAbsMax(Array(values), channels: inner)
                    let seen = statistics.outProjectionMax[layer]
                    statistics.outProjectionMax[layer] = seen.isEmpty ? max : zip(seen, max).map { Swift.max($0, $1) }
                }
            }
            for index in 0..<count { _ = try executor.run(try sample(index)) }
            self = statistics
        }

        private static func value(_ graph: Graph, _ name: String) throws -> ValueID {
            guard let id = graph.value(named: name) else { throw OnboardError.invalidArgument("transforms: the graph has no value '\(name)'") }
            return id
        }

        private static func rmsNormalized(_ values: UnsafeBufferPointer<Float>, width d: Int) -> [Float] {
            var rows = Array(values)
            for start in stride(from: 0, to: rows.count, by: d) {
                var square: Float = 0
                for i in start..<(start + d) { square += rows[i] * rows[i] }
                let scale = 1 / (square / Float(d)).squareRoot()
                for i in start..<(start + d) { rows[i] *= scale.isFinite ? scale : 0 }
            }
            return rows
        }
    }

    /// `bundle` with `tensors` (stored f32, the new `gate_scale` ones after the bundle's own) in a
    /// fresh scratch directory, with the rotation file when there is one.
    private static func write(_ bundle: ModelBundle, tensors: [String: Tensor], rotation: Matrix?) throws -> FoldedTransforms {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("onboard-transformed-\(UUID().uuidString)")
        let registration = Temporaries.register(directory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: bundle.configPath, toPath: (directory as NSString).appendingPathComponent("config.json"))
            let names = try SafeTensorsFile(path: bundle.weightsPath).names
            let added = tensors.keys.filter { !names.contains($0) }.sorted()
            try SafeTensorsWriter.write((names + added).compactMap { name in tensors[name].map { (name, $0) } },
                                        to: (directory as NSString).appendingPathComponent("model.safetensors"))
            if let rotation {
                try SafeTensorsWriter.write([(rotationTensor, try Tensor(shape: [rotation.rows, rotation.cols], values: rotation.values))],
                                            to: (directory as NSString).appendingPathComponent(rotationFile))
            }
            return FoldedTransforms(bundle: try ModelBundle(directory: directory), registration: registration)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            Temporaries.release(registration)
            throw error
        }
    }
}
