import Foundation
import OnboardCore

/// Everything `onboard validate` measures about a model in FP32 and INT8: detection metrics, latency
/// per frame and per stage, memory, per-layer quantization error and what keeping ops in float buys.
/// `report.json` is this value encoded with `ValidationReport.encoder()` (snake_case keys; NaN and
/// infinities as the strings "NaN", "inf", "-inf", as `onboard compare --json` writes them).
public struct ValidationReport: Codable, Sendable {
    /// One value per precision.
    public struct PerPrecision<Value: Codable & Sendable>: Codable, Sendable {
        public var fp32: Value
        public var int8: Value

        public init(fp32: Value, int8: Value) {
            self.fp32 = fp32
            self.int8 = int8
        }
    }

    /// Quantization error of one layer's output (`onboard compare`): accumulated (whole graph in INT8)
    /// and isolated (only this op quantized, on exact inputs).
    public struct LayerSQNR: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        public var accumulatedDB: Double
        public var isolatedDB: Double
        public var cosine: Double
        public var maxError: Double

        enum CodingKeys: String, CodingKey {
            case name, kind, accumulatedDB = "accumulated_sqnr_db", isolatedDB = "isolated_sqnr_db", cosine
            case maxError = "max_error"
        }

        public init(name: String, kind: String, accumulatedDB: Double, isolatedDB: Double, cosine: Double, maxError: Double) {
            self.name = name; self.kind = kind; self.accumulatedDB = accumulatedDB; self.isolatedDB = isolatedDB
            self.cosine = cosine; self.maxError = maxError
        }
    }

    /// An op (or a set joined with '+') worth keeping in float, with the gain measured when it was.
    public struct Exclusion: Codable, Sendable, Equatable {
        public enum Unit: String, Codable, Sendable { case dB, mAP }
        public var op: String
        public var gain: Double
        /// dB of output SQNR, or mAP points (0...1 scale, as the metrics).
        public var unit: Unit

        enum CodingKeys: String, CodingKey { case op, gain, unit }

        public init(op: String, gain: Double, unit: Unit) {
            self.op = op; self.gain = gain; self.unit = unit
        }
    }

    public var model: String
    public var dataset: String
    public var split: String
    public var sampleCount: Int
    /// True when the ground truth is the FP32 model's own detections (no labelled set).
    public var pseudoGroundTruth: Bool
    public var fp32: MetricsSummary
    public var int8: MetricsSummary
    /// Median wall time per frame.
    public var latencyMs: PerPrecision<Double>
    /// Frames per precision behind the latencies, FP32 and INT8 run in turn (nil: not recorded).
    public var latencyFrames: Int?
    /// Median ms per pipeline stage (e.g. preprocess, backbone, head, decode).
    public var stageLatencyMs: PerPrecision<[String: Double]>
    /// Stages in pipeline order for tables and charts (stages not listed follow, slowest first).
    public var stageOrder: [String]
    /// Measured peak resident memory of a run.
    public var peakMemoryBytes: PerPrecision<Int>
    public var weightsBytes: PerPrecision<Int>
    /// The memory planner's activation arena.
    public var activationPeakBytes: PerPrecision<Int>
    public var layers: [LayerSQNR]
    public var suggestedExclusions: [Exclusion]
    /// Ops the INT8 executor runs in float (islands and kept ops).
    public var floatOps: [String]
    /// Where the mAP and NDS drops could lie on other samples like these (nil: not computed).
    public var dropInterval: DropInterval?
    /// The kernel paths both precisions ran (nil in reports written before it was recorded).
    public var kernels: KernelPaths?
    /// The machines of a sharded run (`onboard merge`; nil for a run on one machine). Latency is
    /// then the median of the machines' medians, and peak memory the largest machine's.
    public var machines: [MachineFigures]?
    /// Bytes the INT8 executor holds for the Linears of the recipe's `low_bit` part (nil: none).
    public var lowBitWeightsBytes: Int?
    /// The fraction of per-patch Linear inputs kept in float as outliers over the INT8 pass (nil: none).
    public var lowBitOutlierFraction: Double?

    enum CodingKeys: String, CodingKey {
        case model, dataset, split, sampleCount = "sample_count", pseudoGroundTruth = "pseudo_ground_truth", fp32, int8
        case latencyMs = "latency_ms", latencyFrames = "latency_frames", stageLatencyMs = "stage_latency_ms", stageOrder = "stage_order"
        case peakMemoryBytes = "peak_memory_bytes", weightsBytes = "weights_bytes", activationPeakBytes = "activation_peak_bytes"
        case layers, suggestedExclusions = "suggested_exclusions", floatOps = "float_ops", dropInterval = "drop_interval"
        case kernels, machines, lowBitWeightsBytes = "low_bit_weights_bytes"
        case lowBitOutlierFraction = "low_bit_outlier_fraction"
    }

    public init(
        model: String, dataset: String, split: String, sampleCount: Int, pseudoGroundTruth: Bool,
        fp32: MetricsSummary, int8: MetricsSummary, latencyMs: PerPrecision<Double>, latencyFrames: Int? = nil,
        stageLatencyMs: PerPrecision<[String: Double]>, stageOrder: [String] = [], peakMemoryBytes: PerPrecision<Int>,
        weightsBytes: PerPrecision<Int>, activationPeakBytes: PerPrecision<Int>, layers: [LayerSQNR] = [],
        suggestedExclusions: [Exclusion] = [], floatOps: [String] = [], dropInterval: DropInterval? = nil,
        kernels: KernelPaths? = nil
    ) {
        self.model = model; self.dataset = dataset; self.split = split; self.sampleCount = sampleCount
        self.pseudoGroundTruth = pseudoGroundTruth; self.fp32 = fp32; self.int8 = int8; self.latencyMs = latencyMs
        self.latencyFrames = latencyFrames
        self.stageLatencyMs = stageLatencyMs; self.stageOrder = stageOrder; self.peakMemoryBytes = peakMemoryBytes
        self.weightsBytes = weightsBytes; self.activationPeakBytes = activationPeakBytes; self.layers = layers
        self.suggestedExclusions = suggestedExclusions; self.floatOps = floatOps; self.dropInterval = dropInterval
        self.kernels = kernels
    }

    /// Layers worst first: by accumulated SQNR (NaN last), then name.
    public var layersWorstFirst: [LayerSQNR] {
        layers.sorted { a, b in
            let x = a.accumulatedDB.isNaN ? Double.infinity : a.accumulatedDB
            let y = b.accumulatedDB.isNaN ? Double.infinity : b.accumulatedDB
            return (x, a.name) < (y, b.name)
        }
    }

    /// `stageOrder`, then the remaining stages of either precision, slowest FP32 first.
    public var orderedStages: [String] {
        let all = Set(stageLatencyMs.fp32.keys).union(stageLatencyMs.int8.keys)
        var seen = Set<String>()
        let listed = stageOrder.filter { all.contains($0) && seen.insert($0).inserted }
        let rest = all.subtracting(listed).sorted { a, b in
            ((stageLatencyMs.fp32[a] ?? 0), b) > ((stageLatencyMs.fp32[b] ?? 0), a)
        }
        return listed + rest
    }

    /// The encoder `report.json` is written with.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
        return encoder
    }

    /// A decoder for `report.json`.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
        return decoder
    }
}
