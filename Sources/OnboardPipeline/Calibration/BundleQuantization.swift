import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

/// A float bundle quantized on a calibration set of input `.safetensors` files (a directory or a
/// manifest), written as an INT8 bundle.
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
        public var threads: Int = Parallel.coreCount

        public init(model: String, calibration: String, out: String) {
            self.model = model
            self.calibration = calibration
            self.out = out
        }
    }

    /// The float bundle, recipe, calibration set and graph of a request, checked before any work.
    struct Setup {
        var bundle: ModelBundle
        var choice: RecipeChoice
        var set: CalibrationSet
        var count: Int
        var batch: Int
        var graph: Graph
        var sample: (Int) throws -> [String: Tensor]

        init(_ request: Request, log: ProgressLog) throws {
            try OutputPath.checkDirectory(request.out, option: "out", inputs: [.init("model", request.model), .init("calibration", request.calibration)]
                                          + (request.recipe.map { [.init("recipe", $0)] } ?? []))
            try StagingDirectory.check(request.out, force: request.force)
            bundle = try ModelBundle(directory: request.model)
            if try QuantizedBundle.plan(of: bundle) != nil {
                throw OnboardError.invalidArgument("\(request.model): already quantized (it has quant.json); quantize the float bundle")
            }
            choice = try RecipeChoice(requested: request.recipe, bundle: bundle)
            let set = try CalibrationSet(path: request.calibration)
            self.set = set
            count = min(set.count, request.calibrationSamples ?? set.count)
            batch = try bundle.batchSize(for: try SafeTensorsFile(path: set.files[0]).shapes, source: set.files[0])
            let shapes = bundle.inputShapes(batch: batch)
            graph = try bundle.graph(batch: batch)
            try choice.recipe.validate(against: graph, source: choice.path)
            sample = { try set.sample($0, shapes: shapes) }
            log.line("quantize: \(choice.description)")
        }
    }

    @discardableResult
    public static func run(_ request: Request, log: ProgressLog = .standardError) throws -> Quantization.Summary {
        let setup = try Setup(request, log: log)
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
