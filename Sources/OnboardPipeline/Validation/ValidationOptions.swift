import OnboardCore

/// What a validation of a PETR bundle, FP32 against INT8 on a camera set, is asked to do.
public struct ValidationOptions {
    public var model: String
    public var data: String
    /// Table version under `data` (default: the only one).
    public var version: String?
    /// Evaluation split (default: a split named like "val", else every sample).
    public var split: String?
    /// A recorded set directory, or a directory / manifest of input `.safetensors` files.
    public var calibration: String
    /// The recorded calibration set's split (default: a split named like "train", else every sample).
    public var calibrationSplit: String?
    public var calibrationSamples: Int?
    /// Recipe file (default: the recipe the bundle names, else Configs/recipes/int8-per-tensor.json).
    public var recipe: String?
    public var threads: Int = Parallel.coreCount
    /// Samples of the evaluation split the per-layer diagnosis runs on.
    public var diagnosisSamples = 2
    /// Worst isolated layers tried in float for the suggested exclusions.
    public var exclusionCandidates = 3
    /// Samples of the split (its first ones) that FP32 and INT8 are timed on in turn, each twice
    /// (0: no latency figures); a shard times the first ones of its slice.
    public var latencySamples = 20
    /// Paired bootstrap replicates behind the drop's interval (0: none).
    public var bootstrapReplicates = 200
    /// The report directory (replaced whole at the end).
    public var out: String
    /// Replace `out` even when Onboard did not write it.
    public var force = false
    /// An INT8 bundle of `model` already calibrated (`onboard quantize`, or merged calibration
    /// parts): used instead of calibrating; its plan carries the recipe.
    public var quantized: String?
    /// A fine-tune delta merged into `model`'s weights at load: the variant is validated, its INT8
    /// quantized with the base model's recipe and compared against its own FP32.
    public var delta: String?

    public init(model: String, data: String, calibration: String, out: String) {
        self.model = model
        self.data = data
        self.calibration = calibration
        self.out = out
    }
}
