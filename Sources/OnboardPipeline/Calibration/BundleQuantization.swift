import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

/// A float bundle quantized on a calibration set of input `.safetensors` files (a directory or a
/// manifest), or, for a PETR detector, on a recorded camera set; written as an INT8 bundle.
public enum BundleQuantization {
    public struct Request {
        /// Float bundle directory.
        public var model: String
        /// Directory of input .safetensors files, or a manifest listing them.
        public var calibration: String
        /// Recipe file (default: `RecipeChoice`).
        public var recipe: String?
        /// Output bundle directory (absent, empty or an earlier Onboard output unless `force`).
        public var out: String
        public var force = false
        public var calibrationSamples: Int?
        /// The split of a recorded camera set (default: one named like "train", else every sample).
        public var calibrationSplit: String?
        public var threads: Int = Parallel.coreCount
        /// A fine-tune delta merged into the float weights at load: the INT8 variant, calibrated and
        /// quantized with the base model's recipe.
        public var delta: String?

        public init(model: String, calibration: String, out: String) {
            self.model = model
            self.calibration = calibration
            self.out = out
        }
    }

    /// The float bundle, recipe, calibration samples and graph of a request, checked before any work.
    struct Setup {
        var bundle: ModelBundle
        var choice: RecipeChoice
        var graph: Graph
        /// How `graph` is built again from the bundle (`merge` plans on it).
        var graphSource: GraphSource
        var count: Int
        var sample: (Int) throws -> [String: Tensor]
        var names: [String]
        var digest: () throws -> String
        /// The recipe's rotation or smoothing: `bundle` and `graph` are then the transformed ones (scratch files).
        var transforms: FoldedTransforms?

        init(_ request: Request, log: ProgressLog, sharded: Bool = false) throws {
            try OutputPath.checkDirectory(request.out, option: "out", inputs: [.init("model", request.model), .init("calibration", request.calibration)]
                                          + (request.recipe.map { [.init("recipe", $0)] } ?? []) + (request.delta.map { [.init("delta", $0)] } ?? []))
            try StagingDirectory.check(request.out, force: request.force)
            bundle = try ModelBundle(directory: request.model)
            if try QuantizedBundle.plan(of: bundle) != nil {
                throw OnboardError.invalidArgument("\(request.model): already quantized (it has quant.json); quantize the float bundle")
            }
            if let delta = request.delta { try bundle.apply(delta: delta, log: log) }
            choice = try RecipeChoice(requested: request.recipe, bundle: bundle)
            if try Self.readsCameras(request, bundle: bundle) {
                // A PETR detector calibrated on a recorded camera set, as `validate` calibrates it.
                let pipeline = try DetectionPipeline(bundle: bundle, threads: request.threads)
                let set = try ValidationCalibration.open(path: request.calibration, version: nil, split: request.calibrationSplit,
                                                         limit: request.calibrationSamples, pipeline: pipeline, log: log)
                (graph, graphSource) = (pipeline.model.built.graph, .cameraPipeline)
                (count, sample, names, digest) = (set.count, set.sample, set.names, set.digest)
            } else {
                guard request.calibrationSplit == nil else {
                    throw OnboardError.invalidArgument("--calibration-split needs a recorded camera set and a PETR bundle with a backbone")
                }
                let set = try CalibrationSet(path: request.calibration)
                let count = min(set.count, request.calibrationSamples ?? set.count)
                let batch = try bundle.batchSize(for: try SafeTensorsFile(path: set.files[0]).shapes, source: set.files[0])
                let shapes = bundle.inputShapes(batch: batch)
                (graph, graphSource) = (try bundle.graph(batch: batch), .batch(batch))
                (self.count, sample, names, digest) = (count, { try set.sample($0, shapes: shapes) }, set.fileNames(count), { try set.digest(count) })
            }
            try choice.recipe.validate(against: graph, source: choice.path)
            log.line("quantize: \(choice.description)")
            guard !sharded || (choice.recipe.rotation == nil && choice.recipe.smoothing == nil) else {
                throw OnboardError.invalidArgument("--shard: \(choice.path) transforms the weights on its calibration samples; quantize it on one machine")
            }
            transforms = try FoldedTransforms.apply(to: bundle, recipe: choice.recipe, source: choice.path, graph: graph, count: count,
                                                    sample: sample, threads: request.threads, log: log)
            if let transforms {
                bundle = transforms.bundle
                do {
                    graph = try graphSource.graph(transforms.bundle, threads: request.threads)
                } catch {
                    transforms.remove()
                    throw error
                }
            }
        }

        /// Whether the calibration set is a recorded camera set (or the manifest of a synthetic one)
        /// for a PETR bundle with a backbone.
        static func readsCameras(_ request: Request, bundle: ModelBundle) throws -> Bool {
            guard let config = bundle.model as? PETRConfig, config.backbone != nil else { return false }
            if try SyntheticCalibrationManifest.load(path: request.calibration) != nil { return true }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: request.calibration, isDirectory: &isDirectory), isDirectory.boolValue else { return false }
            return try ValidationCalibration.recordedVersion(path: request.calibration, preferred: nil) != nil
        }
    }

    /// How a quantized graph is built from its float bundle.
    enum GraphSource: Codable, Equatable {
        /// `ModelBundle.graph(batch:)`.
        case batch(Int)
        /// The detection pipeline's graph (images in, geometry outside).
        case cameraPipeline

        func graph(_ bundle: ModelBundle, threads: Int) throws -> Graph {
            switch self {
            case .batch(let batch): return try bundle.graph(batch: batch)
            case .cameraPipeline: return try DetectionPipeline(bundle: bundle, threads: threads).model.built.graph
            }
        }
    }

    @discardableResult
    public static func run(_ request: Request, log: ProgressLog = .standardError) throws -> Quantization.Summary {
        let setup = try Setup(request, log: log)
        defer { setup.transforms?.remove() }
        log.line("quantize: calibrating on \(setup.count) samples (\(setup.choice.recipe.observer.rawValue) observer)")
        let plan = try Calibrator.calibrate(graph: setup.graph, recipe: setup.choice.recipe, count: setup.count, threads: request.threads,
                                            sample: setup.sample, progress: { log.progress("calibration", $0, $1) })
        let summary = try Quantization.save(bundle: setup.bundle, graph: setup.graph, plan: plan, threads: request.threads,
                                            to: request.out, force: request.force)
        log.line("quantize: wrote \(request.out): \(summary.text)")
        return summary
    }

    /// Observes only `shard`'s block of the calibration samples into a part directory (`ShardMerge`
    /// joins the parts into the bundle `run` writes); returns the samples observed.
    @discardableResult
    public static func run(_ request: Request, shard: Shard, log: ProgressLog = .standardError) throws -> Int {
        try CalibrationShard.run(request, shard: shard, log: log)
    }
}
