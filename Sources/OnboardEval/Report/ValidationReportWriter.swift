import Foundation
import OnboardCore

/// Writes a validation report directory: `report.json`, `report.md` and `index.html`, each atomically.
public enum ValidationReportWriter {
    public static let files = ["report.json", "report.md", "index.html"]

    /// Creates `directory` if needed and writes the three files; returns their paths.
    @discardableResult
    public static func write(_ report: ValidationReport, to directory: String) throws -> [String] {
        try OutputDirectory.ensure(directory)
        let json: Data
        do {
            json = try ValidationReport.encoder().encode(report)
        } catch {
            throw OnboardError.model(item: "validation report", reason: "cannot encode: \(error)")
        }
        let contents = [Array(json) + [0x0A], Array(ReportMarkdown.render(report).utf8), Array(ReportHTML.render(report).utf8)]
        var paths: [String] = []
        for (name, bytes) in zip(files, contents) {
            let path = (directory as NSString).appendingPathComponent(name)
            try AtomicFile(path: path).write(bytes: bytes)
            paths.append(path)
        }
        return paths
    }

    /// Reads a `report.json` back.
    public static func read(_ path: String) throws -> ValidationReport {
        let data = try InputFile.read(path, what: "report")
        do {
            return try ValidationReport.decoder().decode(ValidationReport.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let field = (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw OnboardError.format(path: path, item: field, reason: "missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw OnboardError.format(path: path, item: field.isEmpty ? nil : field, reason: "invalid: \(context.debugDescription)")
        } catch {
            throw OnboardError.format(path: path, item: nil, reason: "not a validation report")
        }
    }
}
