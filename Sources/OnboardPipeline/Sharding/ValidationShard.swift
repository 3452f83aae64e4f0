import Foundation
import OnboardCore
import OnboardEval
import OnboardGraph
import OnboardModels
import OnboardSensors

/// `validate --shard I/N` writes a part directory: `part.json`, both precisions' results of the
/// shard's slice, and `validation.json` (its machine's latency and memory, and in shard 0 the
/// per-layer diagnosis, which runs on the split's first samples as in one run). Every shard
/// calibrates on the whole calibration set, or takes `--quantized`, so all hold one plan; shard 0
/// keeps the quantized bundle. `merge` scores the joined results into the report one run writes.
public enum ValidationShard {
    static let figuresFile = "validation.json"

    /// What a validate shard measured, and what the merged report names.
    struct Figures: Codable {
        var model: String
        var dataset: String
        var split: String
        /// Where the evaluation set was (absolute), for `merge` to score against.
        var dataPath: String
        var version: String
        var stageMs: ValidationReport.PerPrecision<[String: Double]>
        var latencyFrames: Int
        var peakMemoryBytes: ValidationReport.PerPrecision<Int>
        var weightsBytes: ValidationReport.PerPrecision<Int>
        var activationPeakBytes: ValidationReport.PerPrecision<Int>
        var floatOps: [String]
        /// Shard 0 only.
        var layers: [ValidationReport.LayerSQNR]?
        var suggestedExclusions: [ValidationReport.Exclusion]?

        enum CodingKeys: String, CodingKey {
            case model, dataset, split, dataPath = "data_path", version, stageMs = "stage_ms", latencyFrames = "latency_frames"
            case peakMemoryBytes = "peak_memory_bytes", weightsBytes = "weights_bytes", activationPeakBytes = "activation_peak_bytes"
            case floatOps = "float_ops", layers, suggestedExclusions = "suggested_exclusions"
        }
    }

    public struct Summary: Sendable {
        public var samples: Int
        public var of: Int
    }

    public static func run(_ options: ValidationOptions, shard: Shard, log: ProgressLog = .standardError) throws -> Summary {
        let start = DetectionPipeline.now()
        let validation = ValidationRun(options: options, log: log)
        let inputs = try ValidationRun.Inputs(options)
        let staging = try StagingDirectory(target: options.out, force: options.force)
        do {
            let slice = shard.slice(inputs.tokens)
            log.line("validate: shard \(shard): \(slice.count) of \(inputs.tokens.count) samples")
            let diagnosed = shard.index == 0 ? Array(inputs.tokens.prefix(options.diagnosisSamples)) : []
            let float = try validation.floatPhase(inputs, detect: slice, diagnose: diagnosed, staging: staging)
            defer { float.transforms?.remove() }
            let int8Path = staging.file(ValidationRun.int8Bundle)
            let quantized = try ModelBundle(directory: int8Path)
            let int8 = try validation.int8Phase(quantized, tables: inputs.tables, tokens: slice, staging: staging)
            let latency = try validation.latencyPhase(bundle: inputs.bundle, quantized: quantized, tables: inputs.tables, tokens: slice)
            let diagnosis = shard.index == 0 ? try validation.diagnose(inputs.bundle, quantized: quantized, float: float, staging: staging) : nil
            let figures = Figures(
                model: options.model, dataset: "\(options.data) (\(inputs.tables.version))", split: inputs.split,
                dataPath: URL(fileURLWithPath: options.data).standardizedFileURL.path, version: inputs.tables.version,
                stageMs: .init(fp32: latency.fp32, int8: latency.int8), latencyFrames: latency.frames,
                peakMemoryBytes: .init(fp32: float.pass.peakRSS, int8: int8.peakRSS),
                weightsBytes: .init(fp32: float.pass.weightBytes, int8: int8.weightBytes),
                activationPeakBytes: .init(fp32: float.pass.activationBytes, int8: int8.activationBytes),
                floatOps: int8.floatOps, layers: diagnosis?.layers, suggestedExclusions: diagnosis?.exclusions)
            let identity = RunIdentity(
                model: try RunIdentity.digest(bundle: inputs.bundle), recipe: try RunIdentity.digest(recipe: float.plan.recipe),
                data: try RunIdentity.digest(tables: inputs.tables), samples: inputs.tokens,
                settings: ["split": inputs.split, "int8_bundle": try RunIdentity.digest(bundle: quantized),
                           "diagnosis_samples": "\(options.diagnosisSamples)", "exclusion_candidates": "\(options.exclusionCandidates)",
                           "bootstrap": "\(options.bootstrapReplicates)"])
            if shard.index != 0 { try FileManager.default.removeItem(atPath: int8Path) }
            try PartFile.write(figures, to: staging.file(figuresFile))
            try PartManifest(kind: .validate, shard: shard, identity: identity, samples: slice,
                             machine: .current(threads: options.threads), wallSeconds: DetectionPipeline.now() - start)
                .write(in: staging.path)
            try staging.commit()
            return Summary(samples: slice.count, of: inputs.tokens.count)
        } catch {
            staging.discard()
            throw error
        }
    }

    /// The parts' results joined and scored into the report directory `out`, as one run writes it.
    static func merge(_ parts: PartSet, out: String, force: Bool, data: String?, log: ProgressLog) throws -> ShardMerge.Summary {
        let figures = try parts.parts.map { try PartFile.read(Figures.self, from: parts.file(figuresFile, of: $0)) }
        let first = figures[0], identity = parts.identity
        let dataPath = data ?? first.dataPath
        let tables = try NuScenesTables(dataroot: dataPath, version: first.version)
        guard try RunIdentity.digest(tables: tables) == identity.data else {
            throw OnboardError.format(path: tables.tablesDirectory, item: "tables",
                                      reason: "not the evaluation set the parts ran on (its tables changed since)")
        }
        let bootstrap = Int(identity.settings["bootstrap"] ?? "") ?? 0
        try OutputPath.checkDirectory(out, option: "out", inputs: parts.parts.map { .init("part", $0.path) } + [.init("data", dataPath)])
        let staging = try StagingDirectory(target: out, force: force)
        do {
            for name in [ValidationRun.fp32Results, ValidationRun.int8Results] {
                try SubmissionMerge.merge(parts: parts.parts.map { parts.file(name, of: $0) }, to: staging.file(name))
            }
            try ValidationRun.copyBundle(parts.file(ValidationRun.int8Bundle, of: parts.parts[0]), to: staging.file(ValidationRun.int8Bundle))
            let tokens = parts.parts.flatMap(\.manifest.samples)
            log.line("merge: scoring \(tokens.count) samples")
            let scores = try ValidationScoring.score(tables: tables, sampleTokens: tokens, fp32Results: staging.file(ValidationRun.fp32Results),
                                                     int8Results: staging.file(ValidationRun.int8Results),
                                                     bootstrapReplicates: bootstrap, log: log)
            let machines = zip(parts.parts, figures).map { part, f in
                let m = part.manifest.machine
                return MachineFigures(shard: part.manifest.shard.description, host: m.host, cpu: m.cpu, isa: m.isa, threads: m.threads,
                                      cores: m.cores, samples: part.manifest.samples.count, wallSeconds: part.manifest.wallSeconds,
                                      latencyMs: .init(fp32: f.stageMs.fp32["total"] ?? .nan, int8: f.stageMs.int8["total"] ?? .nan),
                                      peakMemoryBytes: f.peakMemoryBytes)
            }
            let timed = figures.filter { $0.latencyFrames > 0 }
            func medians(_ stages: [[String: Double]]) -> [String: Double] {
                var out: [String: Double] = [:]
                for key in Set(stages.flatMap(\.keys)) { out[key] = Self.median(stages.compactMap { $0[key] }) }
                return out
            }
            let fp32Stages = medians(timed.map(\.stageMs.fp32)), int8Stages = medians(timed.map(\.stageMs.int8))
            func perStage(_ stages: [String: Double]) -> [String: Double] { stages.filter { $0.key != "total" } }
            /// Per precision, the largest part's figure (memory follows the machine and the thread count).
            func largest(_ figure: KeyPath<Figures, ValidationReport.PerPrecision<Int>>) -> ValidationReport.PerPrecision<Int> {
                .init(fp32: figures.map { $0[keyPath: figure].fp32 }.max() ?? 0, int8: figures.map { $0[keyPath: figure].int8 }.max() ?? 0)
            }
            var report = ValidationReport(
                model: first.model, dataset: first.dataset, split: first.split, sampleCount: tokens.count,
                pseudoGroundTruth: scores.pseudoGroundTruth, fp32: scores.fp32, int8: scores.int8,
                latencyMs: .init(fp32: fp32Stages["total"] ?? .nan, int8: int8Stages["total"] ?? .nan),
                latencyFrames: figures.map(\.latencyFrames).reduce(0, +),
                stageLatencyMs: .init(fp32: perStage(fp32Stages), int8: perStage(int8Stages)), stageOrder: DetectionStages.names,
                peakMemoryBytes: largest(\.peakMemoryBytes), weightsBytes: first.weightsBytes, activationPeakBytes: largest(\.activationPeakBytes),
                layers: first.layers ?? [], suggestedExclusions: first.suggestedExclusions ?? [], floatOps: first.floatOps,
                dropInterval: scores.dropInterval, kernels: identity.numerics.kernels)
            report.machines = machines
            try ValidationReportWriter.write(report, to: staging.path)
            try staging.commit()
            var lines = ["merge: wrote \(out) from \(parts.parts.count) parts", report.headline(out: out), "machines:"]
            for (part, machine) in zip(parts.parts, machines) {
                let ms = String(format: "FP32 %.1f ms, INT8 %.1f ms per frame", machine.latencyMs.fp32, machine.latencyMs.int8)
                lines.append(ShardMerge.machineLine(part, extra: ms + ", peak \(ByteCount.text(max(machine.peakMemoryBytes.fp32, machine.peakMemoryBytes.int8)))"))
            }
            return ShardMerge.Summary(kind: .validate, lines: lines)
        } catch {
            staging.discard()
            throw error
        }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
