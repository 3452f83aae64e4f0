import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardText

/// `onboard embed`: sentence embeddings of a text file (one sentence per line) written to a
/// safetensors file as `embeddings` [N, D], exactly as sentence-transformers computes them in FP32.
public enum EmbeddingRun {
    /// The arithmetic of an embedding run.
    public enum Precision: String, Sendable, CaseIterable {
        case fp32
        /// INT8 with float nonlinearities (`Configs/recipes/minilm-int8.json` by default).
        case int8
        /// Integer-only (I-LLM style): integer softmax, LayerNorm and GELU (`minilm-int8-integer.json`).
        case int8Integer = "int8-integer"

        /// The shipped recipe a float model directory is calibrated with when none is given.
        public var defaultRecipe: String? {
            switch self {
            case .fp32: return nil
            case .int8: return "Configs/recipes/minilm-int8.json"
            case .int8Integer: return "Configs/recipes/minilm-int8-integer.json"
            }
        }
    }

    public struct Request: Sendable {
        public var model: String
        public var textFile: String
        public var out: String
        public var precision: Precision = .fp32
        /// A recipe file for int8 / int8-integer on a float model directory.
        public var recipe: String?
        /// A delta file (`onboard delta compress`) merged into the model's weights at load.
        public var delta: String?
        public var batch = 8
        public var threads = Parallel.coreCount

        public init(model: String, textFile: String, out: String) {
            self.model = model
            self.textFile = textFile
            self.out = out
        }
    }

    public struct Summary: Sendable {
        public var sentences: Int
        public var truncated: Int
        public var width: Int
        public var seconds: Double
    }

    @discardableResult
    public static func run(_ request: Request, log: ProgressLog = .standardError) throws -> Summary {
        try OutputPath.checkFile(request.out, option: "out", inputs: [.init("model", request.model), .init("text-file", request.textFile)]
                                 + (request.delta.map { [.init("delta", $0)] } ?? []))
        let texts = try SentenceFile.read(request.textFile)
        var encoder = try SentenceEncoder(directory: request.model)
        if let delta = request.delta {
            let report = try encoder.apply(delta: delta)
            log.line("embed: merged \(report.tensors.count) changed tensors of \(delta) (ratio \(String(format: "%.2f", report.ratio))x) into \(encoder.bundle.weightsPath)")
        }
        let (ids, truncated) = encoder.encode(texts)
        if truncated > 0 {
            log.line("embed: \(truncated) of \(texts.count) sentences are longer than \(encoder.sentence.maxSequenceLength) tokens; "
                     + "truncated to their first \(encoder.sentence.maxSequenceLength) as sentence-transformers does")
        }
        let runner = try makeRunner(request, encoder: &encoder, log: log)
        let start = Date()
        let embeddings = try SentenceEmbedding.embed(ids, encoder: encoder, batch: request.batch, runner: runner, progress: log)
        let seconds = Date().timeIntervalSince(start)
        try SafeTensorsWriter.write([("embeddings", embeddings)],
                                    metadata: ["precision": request.precision.rawValue, "model": encoder.bundle.directory]
                                        .merging(request.delta.map { ["delta": $0] } ?? [:]) { $1 }, to: request.out)
        return Summary(sentences: texts.count, truncated: truncated, width: encoder.config.hiddenSize, seconds: seconds)
    }

    /// The float ops of an INT8 encoder by kind with counts ("gather x1, reduce_mean x1"); "none" if none.
    static func floatOpSummary(_ executor: Int8Executor) -> String {
        let kinds = Dictionary(grouping: executor.floatOps) { name in
            executor.graph.nodes.first { $0.name == name }?.op.kind ?? name
        }
        guard !kinds.isEmpty else { return "none" }
        return kinds.keys.sorted().map { "\($0) x\(kinds[$0]?.count ?? 0)" }.joined(separator: ", ")
    }

    /// FP32, or INT8 calibrated now on the kit's calibration text with the requested or default
    /// recipe (a sentence encoder is always calibrated from its float directory).
    static func makeRunner(_ request: Request, encoder: inout SentenceEncoder, log: ProgressLog) throws -> (Graph) throws -> any GraphRunner {
        let threads = request.threads
        guard let defaultRecipe = request.precision.defaultRecipe else {
            let packedWeights = PackedWeightCache()
            return { try FP32Executor(graph: $0, threads: threads, packedWeights: packedWeights) }
        }
        guard try QuantizedBundle.plan(of: encoder.bundle) == nil else {
            throw OnboardError.invalidArgument("\(request.model): holds a quant.json; a sentence encoder is quantized from its float directory")
        }
        let recipePath = try request.recipe ?? KitResources.path(defaultRecipe)
        let recipe = try QuantizationRecipe.load(path: recipePath)
        let texts = try SentenceFile.read(try KitResources.path(TextCalibration.shippedSet))
        log.line("embed: calibrating \(request.precision.rawValue) with \(recipePath) on \(min(texts.count, TextCalibration.defaultCount)) sentences of \(TextCalibration.shippedSet)")
        let plan = try TextCalibration.plan(encoder: &encoder, recipe: recipe, texts: texts, threads: threads, progress: log, log: log)
        let source = (request.model as NSString).appendingPathComponent(QuantizedBundle.planFile)
        let weights = QuantizedWeightCache()
        let probe = try Int8Executor(graph: try encoder.graph(batch: 1, length: 2), plan: plan, threads: threads, planSource: source,
                                     weightCache: weights)
        log.line("embed: \(request.precision.rawValue): \(probe.integerOps.count) integer ops; float: \(floatOpSummary(probe))")
        return { try Int8Executor(graph: $0, plan: plan, threads: threads, planSource: source, weightCache: weights) }
    }
}
