import ArgumentParser
import Foundation
import OnboardKit

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Render a synthetic multi-camera set in the nuScenes layout (tables, images, splits).")

    @Option(help: "Output directory (must not exist).") var out: String
    @Option(help: "Number of scenes.") var scenes: Int
    @Option(name: .customLong("samples-per-scene"), help: "Key-frame samples per scene (2 Hz).") var samplesPerScene: Int
    @Option(help: "Random seed: the same seed gives the same bytes.") var seed: UInt64
    @Option(help: "Rig name under Sensors/ or a rig file.") var rig: String = "nuscenes-6cam"
    @Option(help: "nuScenes version directory name.") var version: String = "v1.0-synth"
    @Option(help: "Worker threads for rendering.") var threads: Int = Parallel.coreCount

    mutating func validate() throws {
        guard SyntheticSetOptions.sceneRange.contains(scenes) else { throw ValidationError("--scenes must be 1...10000") }
        guard SyntheticSetOptions.samplesPerSceneRange.contains(samplesPerScene) else {
            throw ValidationError("--samples-per-scene must be 1...1000")
        }
        guard !version.isEmpty, !version.contains("/"), version != ".", version != ".." else {
            throw ValidationError("--version must be a plain directory name")
        }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        let rigPath = CameraRig.resolve(rig, root: (try? KitResources.root()) ?? ".")
        let cameraRig = try CameraRig(path: rigPath)
        var options = SyntheticSetOptions(scenes: scenes, samplesPerScene: samplesPerScene, seed: seed, version: version)
        options.threads = threads
        let summary = try SyntheticSetWriter.write(rig: cameraRig, options: options, to: out) { ProgressLog.standardError.line($0) }
        print("wrote \(out): \(scenes) scenes, \(summary.samples) samples, \(summary.images) images, "
              + "\(summary.annotations) annotations (version \(version), splits \(SyntheticSetWriter.trainSplit)/\(SyntheticSetWriter.validationSplit))")
    }
}
