import Foundation
import OnboardCore
import OnboardSensors

/// A calibration manifest that names a synthetic recorded set instead of listing files:
///
///     {"description": "...", "synth": {"rig": "demo-6cam", "seed": 11, "scenes": 20,
///      "samples_per_scene": 2, "version": "v1.0-synth"}, "split": "synth_train"}
///
/// The set is rendered once (deterministically, `onboard synth`) into a cache directory and then
/// used as any recorded set.
public struct SyntheticCalibrationManifest: Decodable, Sendable {
    public struct Synth: Decodable, Sendable {
        public var rig: String
        public var seed: UInt64
        public var scenes: Int
        public var samplesPerScene: Int
        public var version: String

        enum CodingKeys: String, CodingKey {
            case rig, seed, scenes, version
            case samplesPerScene = "samples_per_scene"
        }
    }

    public var synth: Synth
    public var split: String?

    /// The manifest at `path` when it is one of these (a JSON object with `synth`), else nil.
    public static func load(path: String) throws -> Self? {
        var isDirectory: ObjCBool = false
        guard path.hasSuffix(".json"), FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
              !isDirectory.boolValue else { return nil }
        let data = try InputFile.read(path, what: "calibration manifest")
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["synth"] != nil else {
            return nil
        }
        let manifest: Self
        do {
            manifest = try JSONDecoder().decode(Self.self, from: data)
        } catch {
            throw OnboardError.format(path: path, item: "synth", reason: "needs rig, seed, scenes, samples_per_scene and version")
        }
        let s = manifest.synth
        do {
            try SyntheticSetOptions(scenes: s.scenes, samplesPerScene: s.samplesPerScene, seed: s.seed, version: s.version).validate()
        } catch let OnboardError.invalidArgument(reason) {
            throw OnboardError.format(path: path, item: "synth", reason: reason)
        }
        return manifest
    }

    /// The rendered set's directory (rendered now if the cache does not hold it yet).
    public func materialize(manifest path: String, threads: Int, log: ProgressLog = .standardError) throws -> String {
        let cacheRoot = ProcessInfo.processInfo.environment["ONBOARD_CACHE"]
            ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("onboard-cache")
        let name = "synth-\(synth.rig)-s\(synth.seed)-\(synth.scenes)x\(synth.samplesPerScene)"
        let directory = (cacheRoot as NSString).appendingPathComponent(name)
        try OutputDirectory.ensure(cacheRoot)
        var options = SyntheticSetOptions(scenes: synth.scenes, samplesPerScene: synth.samplesPerScene, seed: synth.seed,
                                          version: synth.version)
        options.threads = threads
        try SyntheticSetCache.prepare(directory: directory, rig: synth.rig, options: options, label: "calibration (\(path))", log: log)
        return directory
    }
}
