import Foundation

/// Escaping and number text shared by the report and render writers (HTML, SVG, Markdown).
public enum Markup {
    /// Text safe inside XML/HTML element content and quoted attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab/newline are not allowed in XML 1.0.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r" {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Markdown text that a renderer shows literally: '&', '<', '>' as entities (no raw HTML).
    static func markdownText(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A Markdown table cell: as `markdownText`, pipes and backslashes escaped, line breaks flattened.
    static func markdownCell(_ text: String) -> String {
        markdownText(text).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\n", with: " ")
    }

    /// Fixed decimals; "n/a" for NaN, "∞"/"-∞" for infinities.
    static func number(_ value: Double, _ decimals: Int = 3) -> String {
        if value.isNaN { return "n/a" }
        if value.isInfinite { return value > 0 ? "∞" : "-∞" }
        return String(format: "%.\(decimals)f", value)
    }

    /// A signed difference ("+0.012", "-1.500").
    static func signed(_ value: Double, _ decimals: Int = 3) -> String {
        guard value.isFinite else { return number(value, decimals) }
        return (value >= 0 ? "+" : "") + number(value, decimals)
    }

    /// Relative change in percent ("-12.5%"); n/a when the base is zero or not finite.
    static func percent(_ change: Double, of base: Double) -> String {
        guard base != 0, base.isFinite, change.isFinite else { return "n/a" }
        return signed(100 * change / abs(base), 1) + "%"
    }

    /// SVG coordinates: at most two decimals, no trailing zeros.
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.2f", rounded)
    }

    /// Bytes as MiB (or GiB from 1 GiB up).
    static func bytes(_ count: Int) -> String {
        if abs(count) >= 1 << 30 { return String(format: "%.2f GiB", Double(count) / 1073741824) }
        return String(format: "%.2f MiB", Double(count) / 1048576)
    }
}
