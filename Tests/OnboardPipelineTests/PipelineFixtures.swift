import Foundation
import OnboardCore
import OnboardPipeline
import OnboardSensors
import OnboardTestSupport
import XCTest

/// Lines a workflow logged, kept for assertions.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []

    var log: ProgressLog { ProgressLog { [self] text in lock.withLock { collected.append(text) } } }
    var text: String { lock.withLock { collected.joined() } }
}

/// A tiny PETR (ViT backbone + CPFPN, random weights) on the demo's 6-camera rig, and a synthetic
/// set of 2 scenes x 2 samples (synth_train, synth_val), made once per process.
enum PipelineFixtures {
    struct Set {
        let root: String
        let model: String
        let data: String
    }

    nonisolated(unsafe) private static var made: Set?
    private static let lock = NSLock()

    static func petrAndSet() throws -> Set {
        try lock.withLock {
            if let made { return made }
            let root = TestPaths.temporaryDirectory("pipeline")
            let model = "\(root)/petr", data = "\(root)/set"
            try makeSixCameraPETRBundle(model)
            var options = SyntheticSetOptions(scenes: 2, samplesPerScene: 2, seed: 3, version: "v1.0-synth")
            options.threads = 2
            let rig = try CameraRig(path: CameraRig.resolve("demo-6cam", root: TestPaths.root))
            _ = try SyntheticSetWriter.write(rig: rig, options: options, to: data) { _ in }
            let set = Set(root: root, model: model, data: data)
            made = set
            return set
        }
    }

    /// The set's PETR quantized by a bare `validate` (no diagnosis, bootstrap or exclusion search)
    /// into `set.root/name`; the INT8 bundle's directory.
    static func quantizedPETR(_ set: Set, name: String, calibrationSamples: Int = 1) throws -> String {
        var options = ValidationOptions(model: set.model, data: set.data, calibration: set.data, out: "\(set.root)/\(name)")
        (options.calibrationSamples, options.diagnosisSamples, options.bootstrapReplicates, options.exclusionCandidates) =
            (calibrationSamples, 0, 0, 0)
        _ = try ValidationRun.run(options, log: .silent)
        return "\(options.out)/\(ValidationRun.int8Bundle)"
    }

    /// A ViT fixture bundle quantized on its own inputs, in `directory`.
    static func quantizedViT(_ directory: String, model: String = TestPaths.fixture("vit/cls_token")) throws -> String {
        let calibration = "\(directory)/calibration"
        try FileManager.default.createDirectory(atPath: calibration, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(model)/inputs.safetensors", toPath: "\(calibration)/a.safetensors")
        var request = BundleQuantization.Request(model: model, calibration: calibration, out: "\(directory)/int8")
        request.threads = 2
        try BundleQuantization.run(request, log: .silent)
        return request.out
    }
}
