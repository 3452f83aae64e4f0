import Foundation

/// The file Onboard writes into each output directory it creates, listing every entry it wrote
/// (relative paths, sorted). A later run replaces the directory only when it holds nothing else.
public enum OutputManifest {
    public static let name = "onboard-manifest.json"

    struct Contents: Codable {
        var writtenBy = "onboard"
        var entries: [String]

        enum CodingKeys: String, CodingKey {
            case writtenBy = "written_by", entries
        }
    }

    /// Lists `directory`'s entries into its manifest.
    static func write(in directory: String) throws {
        let entries = try Self.entries(of: directory).filter { $0 != name }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Contents(entries: entries))
        try AtomicFile(path: (directory as NSString).appendingPathComponent(name)).write(bytes: [UInt8](data) + [0x0A])
    }

    /// Whether `directory` is empty, or holds a manifest and only entries it lists.
    static func replaceable(_ directory: String) -> Bool {
        guard let present = try? entries(of: directory) else { return false }
        if present.isEmpty { return true }
        guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name)),
              let contents = try? JSONDecoder().decode(Contents.self, from: data), contents.writtenBy == "onboard" else {
            return false
        }
        let listed = Set(contents.entries + [name])
        return present.allSatisfy(listed.contains)
    }

    /// Every entry under `directory` (files, links and directories), relative and sorted.
    static func entries(of directory: String) throws -> [String] {
        do {
            return try FileManager.default.subpathsOfDirectory(atPath: directory).sorted()
        } catch {
            throw OnboardError.io(path: directory, reason: "cannot list it: \(error.localizedDescription)")
        }
    }
}
