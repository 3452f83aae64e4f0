import ArgumentParser
import Foundation
import OnboardCore
import OnboardSensors

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

    func validate() throws {
        guard scenes >= 1 else { throw ValidationError("--scenes must be >= 1") }
        guard samplesPerScene >= 1 else { throw ValidationError("--samples-per-scene must be >= 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1") }
    }

    func run() throws {
        let rigPath = CameraRig.resolve(rig, root: (try? Resources.root()) ?? ".")
        let cameraRig = try CameraRig(path: rigPath)
        var options = SyntheticSetOptions(scenes: scenes, samplesPerScene: samplesPerScene, seed: seed, version: version)
        options.threads = threads
        let summary = try SyntheticSetWriter.write(rig: cameraRig, options: options, to: out) { StandardError.line($0) }
        print("wrote \(out): \(scenes) scenes, \(summary.samples) samples, \(summary.images) images, "
              + "\(summary.annotations) annotations (version \(version), splits \(SyntheticSetWriter.trainSplit)/\(SyntheticSetWriter.validationSplit))")
    }
}
