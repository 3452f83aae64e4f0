import OnboardCore
import OnboardEval
import OnboardModels
import OnboardSensors

/// PETR detection over a recorded camera set (nuScenes layout), written as a nuScenes submission.
public enum CameraSetDetection {
    public struct Request {
        /// PETR bundle directory.
        public var model: String
        /// nuScenes dataroot (holds VERSION/).
        public var data: String
        /// Table version (default: the only one under `data`).
        public var version: String?
        /// Split in VERSION/splits.json (default: every key-frame sample).
        public var split: String?
        public var precision: Precision = .fp32
        public var threads: Int = Parallel.coreCount
        /// Leave out samples with a broken table link or image (warned) instead of stopping.
        public var skipBad = false
        /// The results file (replaced atomically); with `shard`, the part directory.
        public var out: String
        /// Detect only this shard's slice of the samples, into a part directory (`ShardMerge` joins them).
        public var shard: Shard?
        /// A fine-tune delta merged into the float bundle's weights at load.
        public var delta: String?
        /// Graph tensors recorded for, or replayed from, another runtime (not with `shard`).
        public var exchange: GraphExchange?

        public init(model: String, data: String, out: String) {
            self.model = model
            self.data = data
            self.out = out
        }
    }

    public struct Summary {
        public var samples: Int
        public var boxes: Int
        /// Median milliseconds per frame of each stage (`DetectionStages.names`) and of the frame ("total").
        public var stageMs: [String: Double]
    }

    public static func run(_ request: Request, log: ProgressLog = .standardError) throws -> Summary {
        let bundle = try ModelBundle.open(request.model, delta: request.delta, log: log)
        // The tables before the model: their parse's temporaries are freed before the model's
        // buffers are allocated, so the peak resident size holds the larger of the two, not both.
        // Detection needs no ground truth: the annotation tables (most of a real set's) stay unread.
        let tables = try NuScenesTables(dataroot: request.data,
                                        version: try NuScenesTables.resolveVersion(dataroot: request.data, version: request.version),
                                        annotations: false)
        let tokens = try request.split.map { try tables.sampleTokens(inSplit: $0) }
        // Once loaded, the code that started the process and parsed the tables need not stay resident.
        CleanCodePages.release()
        if let shard = request.shard {
            guard request.exchange == nil else {
                throw OnboardError.invalidArgument("a sharded detect neither records nor replays graph tensors")
            }
            return try DetectionShard.run(request, shard: shard, bundle: bundle, tables: tables, tokens: tokens, log: log)
        }
        var inputs: [OutputPath.Input] = [.init("model", request.model), .init("data", request.data)]
            + (request.delta.map { [.init("delta", $0)] } ?? [])
        var recording: StagingDirectory?
        switch request.exchange {
        case .replay(let directory)?:
            inputs.append(.init("graph-outputs", directory))
        case .record(let directory)?:
            try OutputPath.checkDirectory(directory, option: "record-graph", inputs: inputs + [.init("out", request.out)])
            recording = try StagingDirectory(target: directory)
        case nil:
            break
        }
        let summary: Summary
        do {
            try OutputPath.checkFile(request.out, option: "out", inputs: inputs)
            let exchange = recording.map { GraphExchange.record(directory: $0.path) } ?? request.exchange
            let pipeline = try DetectionPipeline(bundle: bundle, precision: request.precision, threads: request.threads, exchange: exchange)
            CleanCodePages.release() // nor the code that built the model
            let spool = try SubmissionSpool(path: request.out)
            let run = try DetectionRun.run(pipeline: pipeline, tables: tables, tokens: tokens, skipBad: request.skipBad,
                                           label: "detect", spool: spool, log: log)
            try spool.write()
            summary = Summary(samples: spool.sampleCount, boxes: run.boxCount, stageMs: pipeline.stages.medianMilliseconds)
        } catch {
            recording?.discard()
            throw error
        }
        try recording?.commit()
        return summary
    }
}
