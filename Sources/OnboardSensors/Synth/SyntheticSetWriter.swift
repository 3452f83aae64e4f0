import Foundation
import OnboardCore

/// Options of `onboard synth`.
public struct SyntheticSetOptions: Sendable {
    public var scenes: Int
    public var samplesPerScene: Int
    public var seed: UInt64
    public var version: String
    public var extraObjectsPerScene = 8
    public var jpegQuality = 90
    public var threads = 1
    public var lidar = SynthLidar()

    public init(scenes: Int, samplesPerScene: Int, seed: UInt64, version: String) {
        self.scenes = scenes; self.samplesPerScene = samplesPerScene; self.seed = seed; self.version = version
    }

    public static let sceneRange = 1...10_000, samplesPerSceneRange = 1...1_000

    public func validate() throws {
        guard Self.sceneRange.contains(scenes) else { throw OnboardError.invalidArgument("scenes: \(scenes) is not in 1...10000") }
        guard Self.samplesPerSceneRange.contains(samplesPerScene) else {
            throw OnboardError.invalidArgument("samples per scene: \(samplesPerScene) is not in 1...1000")
        }
        guard !version.isEmpty, !version.contains("/"), version != ".", version != ".." else {
            throw OnboardError.invalidArgument("version: '\(version)' is not a plain directory name")
        }
        guard (1...100).contains(jpegQuality) else { throw OnboardError.invalidArgument("JPEG quality must be 1...100") }
    }
}

/// Writes a complete nuScenes-layout set (13 tables, JPEGs, LIDAR_TOP files, map mask, splits.json)
/// into a staging sibling of `out` that becomes `out` when complete. Same options and rig,
/// same bytes.
public enum SyntheticSetWriter {
    public static let sampleInterval: Int64 = 500_000
    /// Split names the devkit does not map to official scene lists.
    public static let trainSplit = "synth_train", validationSplit = "synth_val"

    public struct Summary: Sendable {
        public var samples = 0
        public var annotations = 0
        public var images = 0
    }

    @discardableResult
    public static func write(rig: CameraRig, options: SyntheticSetOptions, to out: String,
                             progress: @escaping (String) -> Void = { _ in }) throws -> Summary {
        try options.validate()
        var out = out
        while out.count > 1 && out.hasSuffix("/") { out.removeLast() }
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: out) else {
            throw OnboardError.io(path: out, reason: "already exists (choose a new output directory)")
        }
        let staging = try StagingDirectory(target: out)
        do {
            var builder = SyntheticSetBuilder(rig: rig, options: options, root: staging.path, progress: progress)
            let summary = try builder.build()
            try staging.commit()
            return summary
        } catch {
            staging.discard()
            throw error
        }
    }
}
