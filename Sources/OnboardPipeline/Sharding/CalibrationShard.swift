import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant

/// `quantize --shard I/N` writes a part directory: `part.json` and `statistics.json`, the observer
/// states of the shard's block of calibration samples (`Calibrator.observe`). `merge` joins the
/// blocks' statistics in order, which gives exactly those of one calibration over every sample,
/// plans from them and writes the quantized bundle `quantize` writes.
enum CalibrationShard {
    static let statisticsFile = "statistics.json"
    static let sourceFile = "calibration.json"

    /// Where the float bundle is and how its graph was built, for `merge` to plan and quantize it.
    struct Source: Codable {
        var model: String
        var graph: BundleQuantization.GraphSource
    }

    static func run(_ request: BundleQuantization.Request, shard: Shard, log: ProgressLog) throws -> Int {
        let start = DetectionPipeline.now()
        let setup = try BundleQuantization.Setup(request, log: log, sharded: true)
        let observer = setup.choice.recipe.observer
        guard observer.mergesExactly || shard.count == 1 else {
            throw ObserverKind.emaMergeError(item: "--shard \(shard) with \(setup.choice.path) (observer \(observer.rawValue))")
        }
        let staging = try StagingDirectory(target: request.out, force: request.force)
        do {
            let block = shard.range(of: setup.count)
            log.line("quantize: shard \(shard): calibration samples \(block.lowerBound)..<\(block.upperBound) of \(setup.count)")
            let statistics = try Calibrator.observe(graph: setup.graph, recipe: setup.choice.recipe, samples: block, threads: request.threads,
                                                    sample: setup.sample, progress: { log.progress("calibration", $0, $1) })
            let identity = RunIdentity(
                model: try RunIdentity.digest(bundle: setup.bundle), recipe: try RunIdentity.digest(recipe: setup.choice.recipe),
                data: try setup.digest(), samples: setup.names, settings: [:])
            try PartFile.write(statistics, to: staging.file(statisticsFile))
            try PartFile.write(Source(model: URL(fileURLWithPath: request.model).standardizedFileURL.path, graph: setup.graphSource),
                               to: staging.file(sourceFile))
            try PartManifest(kind: .quantize, shard: shard, identity: identity, samples: Array(setup.names[block]),
                             machine: .current(threads: request.threads), wallSeconds: DetectionPipeline.now() - start)
                .write(in: staging.path)
            try staging.commit()
            return block.count
        } catch {
            staging.discard()
            throw error
        }
    }

    /// The parts' statistics merged in shard order, planned, and the quantized bundle written to `out`.
    static func merge(_ parts: PartSet, out: String, force: Bool, threads: Int, model: String?, log: ProgressLog) throws -> ShardMerge.Summary {
        var source = try PartFile.read(Source.self, from: parts.file(sourceFile, of: parts.parts[0]))
        if let model { source.model = model }
        var statistics: CalibrationStatistics?
        for part in parts.parts {
            let block = try CalibrationStatistics.load(path: parts.file(statisticsFile, of: part))
            if statistics == nil { statistics = block } else { try statistics?.merge(block) }
        }
        guard let statistics else { throw OnboardError.invalidArgument("merge: no calibration statistics") }
        let bundle = try ModelBundle(directory: source.model)
        guard try RunIdentity.digest(bundle: bundle) == parts.identity.model else {
            throw OnboardError.format(path: source.model, item: "model", reason: "not the bundle the parts calibrated (its files changed since)")
        }
        try OutputPath.checkDirectory(out, option: "out", inputs: parts.parts.map { .init("part", $0.path) } + [.init("model", source.model)])
        let graph = try source.graph.graph(bundle, threads: threads)
        let plan = try Calibrator.plan(graph: graph, recipe: statistics.recipe, statistics: statistics)
        let summary = try Quantization.save(bundle: bundle, graph: graph, plan: plan, threads: threads, to: out, force: force)
        var lines = ["merge: wrote \(out) from \(parts.parts.count) parts (\(statistics.samples.count) calibration samples): \(summary.text)"]
        lines += parts.parts.map { ShardMerge.machineLine($0, extra: "") }
        return ShardMerge.Summary(kind: .quantize, lines: lines)
    }
}
