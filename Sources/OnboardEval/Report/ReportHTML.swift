/// `index.html`: one self-contained page (inline CSS and SVG; no scripts, fonts or links to the
/// network) with the report's charts and tables. Every string from the report is escaped.
enum ReportHTML {
    static let fp32Color = "#4c78a8"
    static let int8Color = "#f58518"
    /// Per-layer SQNR chart rows (worst first).
    static let chartLayers = 30

    static func render(_ report: ValidationReport) -> String {
        let e = Markup.escape
        var body = "<h1>Validation report: \(e(report.model))</h1>\n"
        body += "<p>\(e(report.dataset)), split <b>\(e(report.split))</b>, \(report.sampleCount) samples. "
            + "Latency per frame: FP32 \(e(Markup.number(report.latencyMs.fp32, 2))) ms, "
            + "INT8 \(e(Markup.number(report.latencyMs.int8, 2))) ms.</p>\n"
        if report.pseudoGroundTruth {
            body += "<p class=\"warn\">Pseudo ground truth: the reference boxes are the FP32 model's own detections, so the "
                + "figures measure how far INT8 departs from FP32, not accuracy. The FP32 column is the reference: FP32 "
                + "scored against itself.</p>\n"
        }
        if let interval = report.dropInterval {
            body += "<p>INT8 drop on other samples like these: \(e(interval.text)).</p>\n"
        }
        body += "<section class=\"charts\">\n"
        for chart in charts(report) { body += "<figure>\(chart.svg())</figure>\n" }
        body += "</section>\n"
        for table in ReportTables.all(report) { body += render(table) }
        body += "<h2>Ops run in float (\(report.floatOps.count))</h2>\n<p class=\"ops\">"
            + (report.floatOps.isEmpty ? "none" : report.floatOps.map { "<code>\(e($0))</code>" }.joined(separator: " "))
            + "</p>\n"
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>Validation report: \(e(report.model))</title>
            <style>
            \(style)
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
        table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; }
        th { background: #f3f3f3; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        figure { margin: 1em 0; }
        .warn { background: #fff4e0; border-left: 4px solid #f58518; padding: 0.5em 1em; }
        .note { color: #555; font-size: 12px; }
        code { background: #f3f3f3; padding: 0 3px; }
        """

    static func charts(_ report: ValidationReport) -> [SVGBarChart] {
        let classes = ReportTables.classNames(report)
        let fp32AP = report.fp32.meanDistAPs, int8AP = report.int8.meanDistAPs
        let layers = Array(report.layersWorstFirst.prefix(chartLayers))
        let stages = report.orderedStages.isEmpty ? [] : report.orderedStages
        let mib = { (bytes: Int) in Double(bytes) / 1048576 }
        let memoryRows: [(String, ValidationReport.PerPrecision<Int>)] = [
            ("weights", report.weightsBytes), ("activations (planned)", report.activationPeakBytes),
            ("peak (measured)", report.peakMemoryBytes),
        ]
        var charts = [
            SVGBarChart(title: "AP per class", categories: classes, series: [
                .init(name: "FP32", color: fp32Color, values: classes.map { fp32AP[$0] ?? .nan }),
                .init(name: "INT8", color: int8Color, values: classes.map { int8AP[$0] ?? .nan }),
            ], unit: "AP (mean over distance thresholds)", decimals: 3),
        ]
        if !layers.isEmpty {
            charts.append(SVGBarChart(title: "Per-layer SQNR, worst \(layers.count) first", categories: layers.map(\.name), series: [
                .init(name: "accumulated", color: "#e45756", values: layers.map(\.accumulatedDB)),
                .init(name: "isolated", color: "#72b7b2", values: layers.map(\.isolatedDB)),
            ], unit: "SQNR (dB, higher is better)", decimals: 1))
        }
        charts.append(SVGBarChart(
            title: "Latency per stage", categories: stages + ["frame (total)"], series: [
                .init(name: "FP32", color: fp32Color,
                      values: stages.map { report.stageLatencyMs.fp32[$0] ?? .nan } + [report.latencyMs.fp32]),
                .init(name: "INT8", color: int8Color,
                      values: stages.map { report.stageLatencyMs.int8[$0] ?? .nan } + [report.latencyMs.int8]),
            ], unit: "ms (median)", decimals: 1))
        charts.append(SVGBarChart(title: "Memory", categories: memoryRows.map(\.0), series: [
            .init(name: "FP32", color: fp32Color, values: memoryRows.map { mib($0.1.fp32) }),
            .init(name: "INT8", color: int8Color, values: memoryRows.map { mib($0.1.int8) }),
        ], unit: "MiB", decimals: 1))
        return charts
    }

    static func render(_ table: ReportTable) -> String {
        let e = Markup.escape
        var out = "<h2>\(e(table.title))</h2>\n"
        if let note = table.note { out += "<p class=\"note\">\(e(note))</p>\n" }
        guard !table.rows.isEmpty else { return out + "<p>none</p>\n" }
        out += "<table>\n<tr>" + table.headers.map { "<th>\(e($0))</th>" }.joined() + "</tr>\n"
        for row in table.rows {
            out += "<tr>" + row.enumerated().map { index, cell in
                index >= table.numericFrom ? "<td class=\"num\">\(e(cell))</td>" : "<td>\(e(cell))</td>"
            }.joined() + "</tr>\n"
        }
        return out + "</table>\n"
    }
}
