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

    @discardableResult
    public static func run(_ request: Request, log: ProgressLog = .standardError) throws -> Quantization.Summary {
        try OutputPath.checkDirectory(request.out, option: "out", inputs: [.init("model", request.model), .init("calibration", request.calibration)]
                                      + (request.recipe.map { [.init("recipe", $0)] } ?? []))
        try StagingDirectory.check(request.out, force: request.force)
        let bundle = try ModelBundle(directory: request.model)
        if try QuantizedBundle.plan(of: bundle) != nil {
            throw OnboardError.invalidArgument("\(request.model): already quantized (it has quant.json); quantize the float bundle")
        }
        let choice = try RecipeChoice(requested: request.recipe, bundle: bundle)
        let set = try CalibrationSet(path: request.calibration)
        let count = min(set.count, request.calibrationSamples ?? set.count)
        let batch = try bundle.batchSize(for: try SafeTensorsFile(path: set.files[0]).shapes, source: set.files[0])
        let shapes = bundle.inputShapes(batch: batch)
        let graph = try bundle.graph(batch: batch)
        try choice.recipe.validate(against: graph, source: choice.path)
        log.line("quantize: \(choice.description)")
        log.line("quantize: calibrating on \(count) samples (\(choice.recipe.observer.rawValue) observer)")
        let plan = try Calibrator.calibrate(graph: graph, recipe: choice.recipe, count: count, threads: request.threads,
                                            sample: { try set.sample($0, shapes: shapes) }, progress: { log.progress("calibration", $0, $1) })
        let summary = try Quantization.save(bundle: bundle, graph: graph, plan: plan, threads: request.threads, to: request.out,
                                            force: request.force)
        log.line("quantize: wrote \(request.out): \(summary.text)")
        return summary
    }
}
