import Foundation
import OnboardCore
import Yams

/// A target board's memory and CPU, from a YAML file such as `Configs/boards/raspberry-pi-5-8gb.yaml`.
///
/// Fields: `name`, `vendor_doc` (https URL of the vendor's specification), `ram_bytes`, `cpu` (model
/// string), `cpu_cores`, `memory_budget_bytes` (what a model may use: RAM minus the OS reserve), and
/// optionally `os_reserve_bytes` (then `memory_budget_bytes` must equal `ram_bytes - os_reserve_bytes`)
/// and `notes`. Unknown fields are errors, so a misspelt one is not silently ignored.
public struct BoardProfile: Equatable, Encodable, Sendable {
    public let name: String
    public let vendorDoc: String
    public let ramBytes: Int
    public let cpu: String
    public let cpuCores: Int
    public let memoryBudgetBytes: Int
    public let osReserveBytes: Int?
    public let notes: String?
    /// The file it was read from.
    public let path: String

    public static let knownFields: Set<String> = [
        "name", "vendor_doc", "ram_bytes", "cpu", "cpu_cores", "memory_budget_bytes", "os_reserve_bytes", "notes",
    ]

    enum CodingKeys: String, CodingKey {
        case name, vendorDoc = "vendor_doc", ramBytes = "ram_bytes", cpu, cpuCores = "cpu_cores"
        case memoryBudgetBytes = "memory_budget_bytes", osReserveBytes = "os_reserve_bytes", notes, path
    }

    /// A board by file path (anything with a '/' or a .yaml/.yml suffix) or by the name of a file in
    /// the kit's `Configs/boards/`.
    public static func resolve(_ argument: String) throws -> BoardProfile {
        let isPath = argument.contains("/") || argument.hasSuffix(".yaml") || argument.hasSuffix(".yml")
        if isPath { return try load(path: argument) }
        let path = try KitResources.path("Configs/boards/\(argument).yaml")
        guard FileManager.default.fileExists(atPath: path) else {
            let directory = FilePaths.parent(of: path)
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
            throw OnboardError.invalidArgument(
                "unknown board '\(argument)' (known: \(known.joined(separator: ", "))); pass a name or a YAML file")
        }
        return try load(path: path)
    }

    public static func load(path: String) throws -> BoardProfile {
        let data = try InputFile.read(path, what: "board file")
        guard let text = String(data: data, encoding: .utf8) else {
            throw OnboardError.format(path: path, item: nil, reason: "not UTF-8 text")
        }
        try YAMLDepth.check(text, path: path)
        let document: Node?
        do {
            document = try Yams.compose(yaml: text)
        } catch {
            let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "syntax error"
            throw OnboardError.format(path: path, item: nil, reason: "invalid YAML: \(reason)")
        }
        guard let mapping = document?.mapping else {
            throw OnboardError.format(path: path, item: nil, reason: "expected a mapping of board fields")
        }
        // Field by field rather than Yams.load: Yams 5 traps on a mapping key that is not a string
        // (`? [a, b]`, `? ?`), anywhere in the document.
        var map: [String: Any] = [:]
        for (key, value) in mapping {
            guard let field = key.scalar?.string else {
                throw OnboardError.format(path: path, item: nil, reason: "board field names must be plain strings")
            }
            guard value.scalar != nil else {
                throw OnboardError.format(path: path, item: field, reason: "must be a single value, not a list or mapping")
            }
            map[field] = value.any
        }
        if let unknown = map.keys.filter({ !knownFields.contains($0) }).sorted().first {
            throw OnboardError.format(path: path, item: unknown, reason: "unknown field (expected \(knownFields.sorted().joined(separator: ", ")))")
        }
        let fields = BoardFields(map: map, path: path)
        let name = try fields.text("name")
        let vendorDoc = try fields.text("vendor_doc")
        guard vendorDoc.hasPrefix("https://") else {
            throw OnboardError.format(path: path, item: "vendor_doc", reason: "must be an https:// URL of the vendor's specification")
        }
        let ram = try fields.positive("ram_bytes")
        let cores = try fields.positive("cpu_cores")
        let budget = try fields.positive("memory_budget_bytes")
        guard budget <= ram else {
            throw OnboardError.format(path: path, item: "memory_budget_bytes", reason: "\(budget) exceeds ram_bytes \(ram)")
        }
        let reserve = try fields.optionalCount("os_reserve_bytes")
        if let reserve, reserve != ram - budget {
            throw OnboardError.format(path: path, item: "memory_budget_bytes",
                                      reason: "\(budget) is not ram_bytes - os_reserve_bytes = \(ram - reserve)")
        }
        return BoardProfile(name: name, vendorDoc: vendorDoc, ramBytes: ram, cpu: try fields.text("cpu"), cpuCores: cores,
                            memoryBudgetBytes: budget, osReserveBytes: reserve, notes: try fields.optionalText("notes"),
                            path: path)
    }
}

/// Typed access to a board file's fields; every error names the file and the field.
private struct BoardFields {
    let map: [String: Any]
    let path: String

    func error(_ field: String, _ reason: String) -> OnboardError {
        OnboardError.format(path: path, item: field, reason: reason)
    }

    func text(_ field: String) throws -> String {
        guard let value = map[field] else { throw error(field, "missing") }
        guard let text = value as? String, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw error(field, "must be a non-empty string")
        }
        return text
    }

    func optionalText(_ field: String) throws -> String? {
        map[field] == nil ? nil : try text(field)
    }

    /// An integer >= 0 (YAML integers only: "8 GiB" or 8.0 are errors).
    func optionalCount(_ field: String) throws -> Int? {
        guard let value = map[field] else { return nil }
        guard let number = value as? Int, !(value is Bool), number >= 0 else {
            throw error(field, "must be a non-negative integer, got '\(value)'")
        }
        return number
    }

    func positive(_ field: String) throws -> Int {
        guard let number = try optionalCount(field) else { throw error(field, "missing") }
        guard number > 0 else { throw error(field, "must be > 0") }
        return number
    }
}
