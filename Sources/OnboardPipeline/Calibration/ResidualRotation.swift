import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant

/// A recipe's `rotation` on a float bundle: the rotated float bundle the quantizer calibrates and
/// quantizes instead, written to a scratch directory (same function in float; see `VimRotation`).
/// The rotation itself is kept beside the weights (`rotation.safetensors`) and travels into the
/// quantized bundle, so that the float reference of its per-layer error can be rebuilt.
struct ResidualRotation {
    static let file = QuantizedBundle.rotationFile
    static let tensorName = "residual_rotation"
    /// Calibration samples whose residual stream gives MambaQuant's KLT (it uses one image).
    static let kltSamples = 8

    /// The rotated bundle, in a directory removed with `remove()`.
    let bundle: ModelBundle
    let matrix: Matrix

    /// nil when the recipe asks for no rotation. `graph` is `bundle`'s float graph and `sample`
    /// gives its inputs (the KLT's covariance is measured on the first samples).
    static func apply(to bundle: ModelBundle, recipe: QuantizationRecipe, source: String, graph: Graph, count: Int,
                      sample: (Int) throws -> [String: Tensor], threads: Int, log: ProgressLog) throws -> ResidualRotation? {
        guard let kind = recipe.rotation else { return nil }
        let trunk = try Self.trunk(of: bundle, source: source)
        let matrix: Matrix
        switch kind {
        case .hadamard:
            matrix = try hadamard(size: trunk.embedDim, seed: recipe.rotationSeed)
        case .kltHadamard:
            let covariance = try residualCovariance(trunk, graph: graph, count: min(count, kltSamples), sample: sample, threads: threads)
            matrix = try KLTRotation.kltHadamard(covariance, seed: recipe.rotationSeed)
        }
        log.line("rotation: \(kind.rawValue) of the \(trunk.embedDim)-channel residual stream folded into the weights")
        return try write(bundle, trunk: trunk, rotation: matrix)
    }

    /// The float bundle rotated by the matrix a quantized bundle carries; nil when it carries none.
    static func reference(for bundle: ModelBundle, quantized: ModelBundle) throws -> ResidualRotation? {
        let path = (quantized.directory as NSString).appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let tensor = try SafeTensorsFile(path: path).tensor(tensorName)
        guard tensor.rank == 2, tensor.shape[0] == tensor.shape[1], tensor.dtype == .f32 else {
            throw OnboardError.format(path: path, item: tensorName, reason: "must be a square f32 matrix, got \(tensor.shape)")
        }
        let matrix = try Matrix(rows: tensor.shape[0], cols: tensor.shape[1], values: tensor.floats())
        return try write(bundle, trunk: try trunk(of: bundle, source: path), rotation: matrix)
    }

    func remove() { try? FileManager.default.removeItem(atPath: bundle.directory) }

    private static func trunk(of bundle: ModelBundle, source: String) throws -> VimTrunk {
        guard let trunk = bundle.vimTrunk else {
            throw OnboardError.format(path: source, item: "rotation",
                                      reason: "\(bundle.directory) has no residual stream to rotate (a Vim classifier or a PETR detector with a Vim backbone)")
        }
        return trunk
    }

    private static func hadamard(size: Int, seed: UInt64?) throws -> Matrix {
        if let seed { return try RandomHadamard(size: size, seed: seed).matrix }
        return try Hadamard(size: size).matrix
    }

    /// Covariance of the RMS-normalized residual stream entering the last layer (what its in_proj
    /// reads once the norm's weight is folded), as MambaQuant measures it.
    private static func residualCovariance(_ trunk: VimTrunk, graph: Graph, count: Int, sample: (Int) throws -> [String: Tensor],
                                           threads: Int) throws -> Matrix {
        guard let target = graph.value(named: trunk.lastResidualValue) else {
            throw OnboardError.invalidArgument("rotation: the graph has no value '\(trunk.lastResidualValue)'")
        }
        let d = trunk.embedDim
        var accumulator = CovarianceAccumulator(channels: d, item: trunk.lastResidualValue)
        let executor = try FP32Executor(graph: graph, threads: threads)
        executor.valueObserver = { id, values in
            guard id == target else { return }
            var rows = Array(values)
            for start in stride(from: 0, to: rows.count, by: d) {
                var square: Float = 0
                for i in start..<(start + d) { square += rows[i] * rows[i] }
                let scale = 1 / (square / Float(d)).squareRoot()
                for i in start..<(start + d) { rows[i] *= scale.isFinite ? scale : 0 }
            }
            try accumulator.observe(rows)
        }
        for index in 0..<count { _ = try executor.run(try sample(index)) }
        return try accumulator.covariance()
    }

    /// `bundle` rotated by `rotation` (weights stored f32) in a fresh scratch directory.
    private static func write(_ bundle: ModelBundle, trunk: VimTrunk, rotation: Matrix) throws -> ResidualRotation {
        var tensors = try SafeTensorsFile(path: bundle.weightsPath).allTensors()
        try VimRotation.rotate(&tensors, trunk: trunk, by: rotation)
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("onboard-rotated-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: bundle.configPath, toPath: (directory as NSString).appendingPathComponent("config.json"))
            let names = try SafeTensorsFile(path: bundle.weightsPath).names
            try SafeTensorsWriter.write(names.compactMap { name in tensors[name].map { (name, $0) } },
                                        to: (directory as NSString).appendingPathComponent("model.safetensors"))
            try SafeTensorsWriter.write([(tensorName, try Tensor(shape: [rotation.rows, rotation.cols], values: rotation.values))],
                                        to: (directory as NSString).appendingPathComponent(file))
            return ResidualRotation(bundle: try ModelBundle(directory: directory), matrix: rotation)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }
}
