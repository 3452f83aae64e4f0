import Foundation
import OnboardCore
import OnboardEval

/// What the demo shows of the INT8 validation on its front page.
struct ValidationSummary {
    let reportPath: String
    let text: String
    let rows: [(String, String)]
}

/// The demo report's front page: FP32 metrics, latency per stage, links to the pictures and the
/// INT8 validation report. Self-contained HTML (no scripts, no network).
enum DemoIndex {
    static func write(to path: String, model: String, summary: MetricsSummary, stages: [String: Double],
                      galleries: [String], validation: ValidationSummary?) throws {
        let escape = Markup.escape
        func number(_ v: Double?) -> String { v.map { $0.isNaN ? "nan" : String(format: "%.4f", $0) } ?? "nan" }
        var html = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>Onboard demo</title>
            <style>body{font-family:sans-serif;max-width:960px;margin:2em auto}table{border-collapse:collapse}
            td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}</style></head><body>
            <h1>Onboard demo</h1><p>Model: <code>\(escape(model))</code></p>
            <h2>FP32 detection (held-out synthetic split)</h2>
            <table><tr><th>mAP</th><th>NDS</th><th>mATE</th><th>mASE</th><th>mAOE</th><th>mAVE</th><th>mAAE</th></tr>
            <tr><td>\(number(summary.meanAP))</td><td>\(number(summary.ndScore))</td>
            """
        for key in ["trans_err", "scale_err", "orient_err", "vel_err", "attr_err"] {
            html += "<td>\(number(summary.tpErrors[key]))</td>"
        }
        html += "</tr></table>\n<h3>AP per class</h3><table><tr><th>class</th><th>AP</th></tr>"
        for (name, ap) in summary.meanDistAPs.sorted(by: { $0.key < $1.key }) {
            html += "<tr><td>\(escape(name))</td><td>\(number(ap))</td></tr>"
        }
        html += "</table>\n<h2>Latency per frame (median ms)</h2><table><tr><th>stage</th><th>ms</th></tr>"
        for name in DetectionStages.names + ["total"] {
            html += "<tr><td>\(name)</td><td>\(String(format: "%.2f", stages[name] ?? 0))</td></tr>"
        }
        html += "</table>\n<h2>Pictures</h2><ul>"
        for gallery in galleries { html += "<li><a href=\"\(escape(gallery))\">\(escape(gallery))</a></li>" }
        html += "</ul>\n"
        if let validation {
            html += "<h2>INT8 validation (Q-PETR)</h2><table>"
            for (key, value) in validation.rows { html += "<tr><th>\(escape(key))</th><td>\(escape(value))</td></tr>" }
            html += "</table><p><a href=\"\(escape(validation.reportPath))\">full validation report</a></p>\n"
        }
        html += "</body></html>\n"
        try AtomicFile(path: path).write(string: html)
    }
}
