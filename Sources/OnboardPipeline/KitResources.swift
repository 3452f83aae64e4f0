import Foundation
import OnboardCore

/// Finds the kit's shipped files (Configs/, Sensors/, Calibration/): $ONBOARD_HOME, else the
/// current directory or one of its parents, else the source checkout this binary was built from.
public enum KitResources {
    public static func root() throws -> String {
        let fileManager = FileManager.default
        func hasConfigs(_ dir: String) -> Bool {
            fileManager.fileExists(atPath: (dir as NSString).appendingPathComponent("Configs/models"))
        }
        if let home = ProcessInfo.processInfo.environment["ONBOARD_HOME"] {
            guard hasConfigs(home) else { throw OnboardError.io(path: home, reason: "ONBOARD_HOME has no Configs/models") }
            return home
        }
        var dir = fileManager.currentDirectoryPath
        while true {
            if hasConfigs(dir) { return dir }
            let parent = FilePaths.parent(of: dir)
            if parent == dir || parent.isEmpty { break }
            dir = parent
        }
        // Sources/OnboardPipeline/KitResources.swift -> checkout root.
        let root = FilePaths.parent(of: FilePaths.parent(of: FilePaths.parent(of: #filePath)))
        if hasConfigs(root) { return root }
        throw OnboardError.io(path: "Configs/models", reason: "not found: run from the Onboard checkout or set ONBOARD_HOME")
    }

    public static func path(_ relative: String) throws -> String {
        (try root() as NSString).appendingPathComponent(relative)
    }
}
