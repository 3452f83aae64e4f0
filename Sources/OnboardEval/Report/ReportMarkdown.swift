/// `report.md`: the report's tables as GitHub-flavoured Markdown.
enum ReportMarkdown {
    static func render(_ report: ValidationReport) -> String {
        var lines = [
            "# Validation report: \(Markup.markdownText(report.model))",
            "",
            "- data: \(Markup.markdownText(report.dataset)), split \(Markup.markdownText(report.split)), \(report.sampleCount) samples",
        ]
        if report.pseudoGroundTruth {
            lines.append("- **pseudo ground truth**: the FP32 model's own detections; figures measure INT8 against FP32, not accuracy "
                + "(the FP32 column is the reference, FP32 scored against itself)")
        }
        lines.append(String(format: "- latency per frame: FP32 %@ ms, INT8 %@ ms",
                            Markup.number(report.latencyMs.fp32, 2), Markup.number(report.latencyMs.int8, 2)))
        if let interval = report.dropInterval {
            lines.append("- INT8 drop on other samples like these: " + Markup.markdownText(interval.text))
        }
        for table in ReportTables.all(report) {
            lines += [""] + render(table)
        }
        lines += ["", "## Ops run in float (\(report.floatOps.count))", ""]
        lines.append(report.floatOps.isEmpty ? "none" : report.floatOps.map(Markup.markdownText).joined(separator: ", "))
        return lines.joined(separator: "\n") + "\n"
    }

    static func render(_ table: ReportTable) -> [String] {
        var lines = ["## \(Markup.markdownText(table.title))", ""]
        if let note = table.note { lines += [Markup.markdownText(note), ""] }
        guard !table.rows.isEmpty else { return lines + ["none"] }
        lines.append("| " + table.headers.map(Markup.markdownCell).joined(separator: " | ") + " |")
        lines.append("|" + table.headers.indices.map { $0 >= table.numericFrom ? "---:" : "---" }.joined(separator: "|") + "|")
        for row in table.rows {
            lines.append("| " + row.map(Markup.markdownCell).joined(separator: " | ") + " |")
        }
        return lines
    }
}
