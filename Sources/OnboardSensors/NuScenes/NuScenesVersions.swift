import Foundation
import OnboardCore

extension NuScenesTables {
    /// The table version directories under `dataroot` (those holding `sample.json`), sorted.
    public static func versions(under dataroot: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dataroot)) ?? []
        return entries.filter {
            FileManager.default.fileExists(atPath: ((dataroot as NSString).appendingPathComponent($0) as NSString).appendingPathComponent("sample.json"))
        }.sorted()
    }

    /// `version` when given, else the only version directory under `dataroot`.
    public static func resolveVersion(dataroot: String, version: String?) throws -> String {
        if let version { return version }
        let candidates = versions(under: dataroot)
        guard candidates.count == 1 else {
            throw OnboardError.invalidArgument(candidates.isEmpty
                ? "\(dataroot): no table version directory (VERSION/sample.json) found"
                : "\(dataroot): several table versions (\(candidates.joined(separator: ", "))); choose one")
        }
        return candidates[0]
    }
}
