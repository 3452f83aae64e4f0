import Foundation
import OnboardCore
import OnboardModels
import OnboardSensors

/// The calibration inputs of `onboard validate`: a recorded set (nuScenes layout; a training split by
/// default) decoded as detection decodes it, or a calibration set of input `.safetensors` files
/// (a directory or a manifest) holding `images` plus `coords3d` or `lidar2img`.
public struct ValidationCalibration {
    /// What the set is, for progress lines.
    public let description: String
    public let count: Int
    /// The PETR graph's inputs (`images`, `coords3d`) of sample `i`, checked finite.
    public let sample: (Int) throws -> [String: Tensor]
    /// The samples' names (tokens, or file names), in order.
    public let names: [String]
    /// SHA-256 over what the samples are read from (tables, or input files), for sharded runs.
    public let digest: () throws -> String

    /// Opens the set and checks it has samples; nothing is decoded yet.
    /// - Parameters:
    ///   - version: the table version to use when the set has several (else the only one).
    ///   - split: the recorded set's split (default: a split named like "train", else every sample).
    ///   - limit: at most this many samples (spread evenly over a recorded split; the first ones of a file set).
    public static func open(path: String, version: String?, split: String?, limit: Int?, pipeline: DetectionPipeline,
                     log: ProgressLog) throws -> Self {
        if let manifest = try SyntheticCalibrationManifest.load(path: path) {
            let set = try manifest.materialize(manifest: path, threads: pipeline.threads, log: log)
            return try recorded(path: set, version: manifest.synth.version, split: split ?? manifest.split, limit: limit,
                                pipeline: pipeline)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OnboardError.io(path: path, reason: "no such calibration set")
        }
        if isDirectory.boolValue, let tablesVersion = try recordedVersion(path: path, preferred: version) {
            return try recorded(path: path, version: tablesVersion, split: split, limit: limit, pipeline: pipeline)
        }
        if split != nil {
            throw OnboardError.invalidArgument("a calibration split needs a recorded calibration set (\(path) is a set of input files)")
        }
        return try files(CalibrationSet(path: path), limit: limit, pipeline: pipeline)
    }

    /// `preferred` when `path/preferred` holds tables, else the only version directory with tables;
    /// nil when there is none (not a recorded set).
    static func recordedVersion(path: String, preferred: String?) throws -> String? {
        let candidates = NuScenesTables.versions(under: path)
        if let preferred, candidates.contains(preferred) { return preferred }
        guard candidates.count <= 1 else {
            throw OnboardError.invalidArgument("\(path): several table versions (\(candidates.joined(separator: ", "))); the calibration set needs one")
        }
        return candidates.first
    }

    static func recorded(path: String, version: String, split: String?, limit: Int?, pipeline: DetectionPipeline) throws -> Self {
        let tables = try NuScenesTables(dataroot: path, version: version, annotations: false)  // images only
        let chosen = try split ?? trainingSplit(tables)
        let tokens = try chosen.map { try tables.sampleTokens(inSplit: $0) } ?? tables.scene.records.flatMap {
            tables.samplesInScene($0.token).map(\.token)
        }
        guard !tokens.isEmpty else {
            throw OnboardError.format(path: tables.tablesDirectory, item: chosen, reason: "the calibration set is empty (no samples)")
        }
        let picked = spread(tokens, count: min(tokens.count, limit ?? tokens.count))
        let samples = try pipeline.reader(tables: tables).samples(tokens: picked).samples
        return Self(description: "\(tables.tablesDirectory) \(chosen.map { "split \($0)" } ?? "all samples")", count: samples.count,
                    sample: { i in try pipeline.graphInputs(samples[i]) }, names: samples.map(\.token),
                    digest: { try RunIdentity.digest(tables: tables) })
    }

    /// The split named "train", else the first split whose name contains "train"; nil when none.
    static func trainingSplit(_ tables: NuScenesTables) throws -> String? {
        let names = (try tables.customSplits() ?? [:]).keys.sorted()
        return names.first { $0 == "train" } ?? names.first { $0.lowercased().contains("train") }
    }

    /// `count` items evenly spaced over `items` (neighbouring frames are nearly alike).
    public static func spread<T>(_ items: [T], count: Int) -> [T] {
        guard count < items.count, count > 0 else { return items }
        return (0..<count).map { items[$0 * items.count / count] }
    }

    static func files(_ set: CalibrationSet, limit: Int?, pipeline: DetectionPipeline) throws -> Self {
        let config = pipeline.model.config
        let imageShape = pipeline.model.built.inputShapes["images"] ?? []
        let coordsShape = pipeline.model.built.inputShapes["coords3d"] ?? []
        let model = pipeline.model
        let count = min(set.count, limit ?? set.count)
        return Self(description: set.source, count: count, sample: { i in
            let path = set.files[i]
            let file = try SafeTensorsFile(path: path)
            if file.contains("coords3d") {
                return try set.sample(i, shapes: ["images": imageShape, "coords3d": coordsShape])
            }
            guard file.contains("lidar2img") else {
                throw OnboardError.format(path: path, item: nil, reason: "needs images and coords3d (or lidar2img) for the PETR graph")
            }
            let tensors = try set.sample(i, shapes: ["images": imageShape, "lidar2img": [config.numCameras, 4, 4]])
            guard let images = tensors["images"], let lidar2img = tensors["lidar2img"] else {
                throw OnboardError.format(path: path, item: nil, reason: "needs images and lidar2img")
            }
            return try DetectionPipeline.graphInputs(images: images, lidar2img: lidar2img, model: model, source: path)
        }, names: set.fileNames(count), digest: { try set.digest(count) })
    }
}
