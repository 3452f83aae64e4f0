import Foundation
import OnboardCore
import OnboardEval
import OnboardModels
import OnboardSensors

/// `detect --shard I/N` writes a part directory: `part.json`, `results.json` (the slice's
/// submission, as `detect` writes it) and `figures.json`; `merge` joins the parts' results into
/// the file one `detect` over every sample writes.
enum DetectionShard {
    static let resultsFile = "results.json"
    static let figuresFile = "figures.json"

    /// What a detect shard measured on its machine.
    struct Figures: Codable {
        var stageMs: [String: Double]
        var peakResidentBytes: Int
        var boxes: Int

        enum CodingKeys: String, CodingKey { case stageMs = "stage_ms", peakResidentBytes = "peak_resident_bytes", boxes }
    }

    static func run(_ request: CameraSetDetection.Request, shard: Shard, bundle: ModelBundle, tables: NuScenesTables,
                    tokens: [String]?, log: ProgressLog) throws -> CameraSetDetection.Summary {
        let start = DetectionPipeline.now()
        try OutputPath.checkDirectory(request.out, option: "out", inputs: [.init("model", request.model), .init("data", request.data)])
        let staging = try StagingDirectory(target: request.out)
        do {
            let order = tables.sampleOrder(tokens)
            let slice = shard.slice(order)
            let identity = RunIdentity(
                model: try RunIdentity.digest(bundle: bundle), recipe: nil, data: try RunIdentity.digest(tables: tables), samples: order,
                settings: ["precision": request.precision.rawValue, "split": request.split ?? "every key-frame sample",
                           "skip_bad": "\(request.skipBad)"])
            let pipeline = try DetectionPipeline(bundle: bundle, precision: request.precision, threads: request.threads)
            CleanCodePages.release() // as an unsharded detect does once the model is built
            log.line("detect: shard \(shard): \(slice.count) of \(order.count) samples")
            ProcessStats.resetPeak()
            let spool = try SubmissionSpool(path: staging.file(resultsFile))
            let run = slice.isEmpty ? DetectionRun.Output()
                : try DetectionRun.run(pipeline: pipeline, tables: tables, tokens: slice, skipBad: request.skipBad,
                                       label: "detect \(shard)", spool: spool, log: log)
            let figures = Figures(stageMs: pipeline.stages.medianMilliseconds, peakResidentBytes: ProcessStats.peakResidentBytes,
                                  boxes: run.boxCount)
            try spool.write()
            try PartFile.write(figures, to: staging.file(figuresFile))
            try PartManifest(kind: .detect, shard: shard, identity: identity, samples: slice,
                             machine: .current(threads: request.threads), wallSeconds: DetectionPipeline.now() - start)
                .write(in: staging.path)
            try staging.commit()
            return CameraSetDetection.Summary(samples: spool.sampleCount, boxes: run.boxCount, stageMs: figures.stageMs)
        } catch {
            staging.discard()
            throw error
        }
    }

    /// The parts' results joined into `out`, as `detect` over every sample writes it.
    static func merge(_ parts: PartSet, out: String) throws -> ShardMerge.Summary {
        try OutputPath.checkFile(out, option: "out", inputs: parts.parts.map { .init("part", $0.path) })
        let merged = try SubmissionMerge.merge(parts: parts.parts.map { parts.file(resultsFile, of: $0) }, to: out)
        var lines = ["merge: wrote \(out): \(merged.samples) samples, \(merged.boxes) boxes from \(parts.parts.count) parts"]
        for part in parts.parts {
            let figures = try PartFile.read(Figures.self, from: parts.file(figuresFile, of: part))
            let perFrame = String(format: "%.1f ms per frame", figures.stageMs["total"] ?? 0)
            lines.append(ShardMerge.machineLine(part, extra: "\(perFrame), peak \(ByteCount.text(figures.peakResidentBytes))"))
        }
        return ShardMerge.Summary(kind: .detect, lines: lines)
    }
}
