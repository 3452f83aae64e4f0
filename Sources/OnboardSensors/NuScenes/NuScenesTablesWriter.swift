import Foundation
import OnboardCore

/// Writes the 13 tables (and optionally `splits.json`) as the devkit reads them, each file atomically.
/// Bytes are deterministic: records in array order, keys sorted, numbers in Swift's shortest
/// round-trip decimal form (exact, locale-independent).
public enum NuScenesTablesWriter {
    public static func write(_ records: NuScenesRecords, splits: [String: [String]]? = nil, to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw OnboardError.io(path: directory, reason: "cannot create directory: \(error.localizedDescription)")
        }
        try writeTable(records.category, to: directory)
        try writeTable(records.attribute, to: directory)
        try writeTable(records.visibility, to: directory)
        try writeTable(records.instance, to: directory)
        try writeTable(records.sensor, to: directory)
        try writeTable(records.calibratedSensor, to: directory)
        try writeTable(records.egoPose, to: directory)
        try writeTable(records.log, to: directory)
        try writeTable(records.scene, to: directory)
        try writeTable(records.sample, to: directory)
        try writeTable(records.sampleData, to: directory)
        try writeTable(records.sampleAnnotation, to: directory)
        try writeTable(records.map, to: directory)
        if let splits {
            try writeJSON(splits, to: (directory as NSString).appendingPathComponent("splits.json"))
        }
    }

    static func writeTable<R: NuScenesRecord>(_ records: [R], to directory: String) throws {
        try writeJSON(records, to: (directory as NSString).appendingPathComponent("\(R.tableName).json"))
    }

    static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw OnboardError.format(path: path, item: nil, reason: "cannot encode: \(error)")
        }
        try AtomicFile(path: path).write(bytes: [UInt8](data) + [0x0A])
    }
}
