import Foundation
import OnboardSensors

/// A synthetic recorded set rendered once into `directory` and reused while its tables are there
/// (`onboard demo`'s held-out set, calibration manifests naming a synthetic set).
public enum SyntheticSetCache {
    /// Whether it was rendered now (false: reused).
    @discardableResult
    public static func prepare(directory: String, rig: String, options: SyntheticSetOptions, label: String,
                               log: ProgressLog = .standardError) throws -> Bool {
        let tables = ((directory as NSString).appendingPathComponent(options.version) as NSString).appendingPathComponent("sample.json")
        if FileManager.default.fileExists(atPath: tables) {
            log.line("\(label): reusing \(directory)")
            return false
        }
        let rigPath = CameraRig.resolve(rig, root: (try? KitResources.root()) ?? ".")
        log.line("\(label): rendering a synthetic set (\(options.scenes) scenes, seed \(options.seed), rig \(rig)) into \(directory)")
        _ = try SyntheticSetWriter.write(rig: try CameraRig(path: rigPath), options: options, to: directory) { _ in }
        return true
    }
}
