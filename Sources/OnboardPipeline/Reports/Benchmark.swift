import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardText

/// Latency and memory of a bundle on random inputs of its input shapes (`SynthesizedInputs`).
public enum Benchmark {
    public struct Request {
        public var model: String
        public var precision: Precision = .fp32
        public var iterations = 20
        public var warmup = 3
        public var threads: Int = Parallel.coreCount
        public var batch = 1
        /// Add the time per op kind, from profiled runs after the timed ones.
        public var profile = false
        /// A sentence encoder's token count per sequence (default: its max_seq_length).
        public var sequenceLength: Int?
        /// A recipe for INT8 on a float sentence-encoder directory (calibrated first, not timed).
        public var recipe: String?

        public init(model: String) { self.model = model }
    }

    /// The report and the op kinds in the profiler's order (empty without `profile`).
    public static func run(_ request: Request) throws -> (report: BenchReport, byKind: [(kind: String, seconds: Double)]) {
        let bundle = try ModelBundle(directory: request.model)
        guard bundle.model is BertConfig || (request.sequenceLength == nil && request.recipe == nil) else {
            throw OnboardError.invalidArgument("--sequence-length and --recipe apply to sentence encoders only (\(request.model) is \(type(of: bundle.model).configName))")
        }
        let (runner, inputs) = bundle.model is BertConfig
            ? try encoderRunner(request)
            : (try RunnerFactory(bundle: bundle, precision: request.precision, threads: request.threads).runner(batch: request.batch),
               SynthesizedInputs.gaussian(for: bundle, batch: request.batch))
        for _ in 0..<request.warmup { _ = try runner.run(inputs) }
        var times: [Double] = []
        for _ in 0..<request.iterations {
            let start = ProcessStats.seconds()
            _ = try runner.run(inputs)
            times.append((ProcessStats.seconds() - start) * 1000)
        }
        let summary = TimingSummary(times)
        var byKind: [(kind: String, seconds: Double)] = []
        if request.profile {
            let profiler = Profiler()
            runner.profiler = profiler
            for _ in 0..<request.iterations { _ = try runner.run(inputs) }
            byKind = profiler.secondsByKind.map { ($0.kind, $0.seconds / Double(request.iterations)) }
        }
        let report = BenchReport(
            model: request.model, precision: request.precision.rawValue, threads: request.threads, batch: request.batch,
            medianMs: summary.median, p90Ms: summary.percentile(90),
            weightsBytes: runner.weightBytes, activationPeakBytes: runner.memoryPlan.arenaBytes,
            scratchBytes: runner.memoryPlan.scratchBytes, peakRSSBytes: ProcessStats.peakResidentBytes,
            opMs: byKind.isEmpty ? nil : Dictionary(uniqueKeysWithValues: byKind.map { ($0.kind, $0.seconds * 1000) }),
            kernels: .current)
        return (report, byKind)
    }

    /// A sentence encoder at `batch` x `sequenceLength` on random token ids (seeded), INT8
    /// calibrated on the kit's text as `embed` does.
    static func encoderRunner(_ request: Request) throws -> (any GraphRunner, [String: Tensor]) {
        var encoder = try SentenceEncoder(directory: request.model)
        let length = request.sequenceLength ?? encoder.sentence.maxSequenceLength
        guard (2...encoder.config.maxPositionEmbeddings).contains(length) else {
            throw OnboardError.invalidArgument("--sequence-length \(length) must be in 2...\(encoder.config.maxPositionEmbeddings)")
        }
        var embedding = EmbeddingRun.Request(model: request.model, textFile: "", out: "")
        (embedding.precision, embedding.recipe, embedding.threads) = (request.precision == .int8 ? .int8 : .fp32, request.recipe, request.threads)
        let makeRunner = try EmbeddingRun.makeRunner(embedding, encoder: &encoder, log: .standardError)
        let runner = try makeRunner(try encoder.graph(batch: request.batch, length: length))
        // Word pieces past the first 1000 entries (BERT's specials and unused slots), as far as the vocabulary has them.
        var generator = SplitMix64(seed: 0x5EED)
        let vocabulary = encoder.tokenizer.vocabularySize, first = min(1000, vocabulary / 2)
        let ids = (0..<request.batch * length).map { index -> Int32 in
            switch index % length {
            case 0: return encoder.tokenizer.clsID
            case length - 1: return encoder.tokenizer.sepID
            default: return Int32(first + Int(generator.next() % UInt64(max(1, vocabulary - first))))
            }
        }
        return (runner, [BertBuilder.inputName: try Tensor(shape: [request.batch, length], dtype: .i32, integers: ids)])
    }
}
