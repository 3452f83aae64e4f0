import Foundation

/// A grouped horizontal bar chart as inline SVG for an HTML page (no namespace declaration, no scripts,
/// no external references):
/// one group per category, one bar per series, a legend and a value axis with round ticks.
/// NaN values draw no bar; infinite ones are clamped to the axis end and labelled ∞.
struct SVGBarChart {
    struct Series {
        let name: String
        let color: String
        let values: [Double]
    }

    let title: String
    let categories: [String]
    let series: [Series]
    let unit: String
    var decimals = 2

    static let width = 760.0
    static let labelWidth = 230.0
    static let valueWidth = 70.0
    static let barHeight = 12.0
    static let barGap = 2.0
    static let groupGap = 8.0
    static let top = 44.0
    static let bottom = 28.0

    var plotWidth: Double { Self.width - Self.labelWidth - Self.valueWidth }
    var groupHeight: Double { Double(series.count) * (Self.barHeight + Self.barGap) + Self.groupGap }
    var height: Double { Self.top + Double(max(categories.count, 1)) * groupHeight + Self.bottom }

    /// The axis range: it always includes 0 and every finite value.
    var range: (low: Double, high: Double) {
        let finite = series.flatMap(\.values).filter(\.isFinite)
        let low = min(0, finite.min() ?? 0), high = max(0, finite.max() ?? 1)
        return high > low ? (low, high) : (low, low + 1)
    }

    func x(_ value: Double) -> Double {
        let (low, high) = range
        let clamped = min(max(value, low), high)
        return Self.labelWidth + (clamped - low) / (high - low) * plotWidth
    }

    /// Round tick values (1, 2 or 5 times a power of ten) across the range.
    var ticks: [Double] {
        let (low, high) = range
        let raw = (high - low) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var values: [Double] = []
        var tick = (low / step).rounded(.up) * step
        while tick <= high + step * 1e-9, values.count < 20 {
            values.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return values
    }

    func svg() -> String {
        let c = Markup.coordinate
        var out = "<svg class=\"chart\" width=\"\(c(Self.width))\" height=\"\(c(height))\" "
            + "viewBox=\"0 0 \(c(Self.width)) \(c(height))\" role=\"img\" aria-label=\"\(Markup.escape(title))\">\n"
        out += "<title>\(Markup.escape(title))</title>\n"
        out += "<text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"bold\">\(Markup.escape(title))</text>\n"
        var legendX = Self.labelWidth
        for entry in series {
            out += "<rect x=\"\(c(legendX))\" y=\"24\" width=\"10\" height=\"10\" fill=\"\(Markup.escape(entry.color))\"/>"
            out += "<text x=\"\(c(legendX + 14))\" y=\"33\" font-size=\"11\">\(Markup.escape(entry.name))</text>\n"
            legendX += 24 + Double(entry.name.count) * 7
        }
        let plotBottom = height - Self.bottom
        for tick in ticks {
            let tx = x(tick)
            out += "<line x1=\"\(c(tx))\" y1=\"\(c(Self.top - 4))\" x2=\"\(c(tx))\" y2=\"\(c(plotBottom))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(c(tx))\" y=\"\(c(plotBottom + 14))\" font-size=\"10\" text-anchor=\"middle\">"
                + "\(Markup.escape(Self.tickText(tick)))</text>\n"
        }
        out += "<text x=\"\(c(Self.labelWidth + plotWidth / 2))\" y=\"\(c(height - 2))\" font-size=\"10\" text-anchor=\"middle\">"
            + "\(Markup.escape(unit))</text>\n"
        let zero = x(0)
        for (row, category) in categories.enumerated() {
            let groupTop = Self.top + Double(row) * groupHeight
            let label = category.count > 34 ? String(category.prefix(16)) + "…" + String(category.suffix(17)) : category
            out += "<text x=\"\(c(Self.labelWidth - 6))\" y=\"\(c(groupTop + groupHeight / 2))\" font-size=\"11\" "
                + "text-anchor=\"end\"><title>\(Markup.escape(category))</title>\(Markup.escape(label))</text>\n"
            for (index, entry) in series.enumerated() {
                let value = row < entry.values.count ? entry.values[row] : .nan
                let y = groupTop + Double(index) * (Self.barHeight + Self.barGap)
                guard !value.isNaN else {
                    out += "<text x=\"\(c(zero + 3))\" y=\"\(c(y + 10))\" font-size=\"10\" fill=\"#888\">n/a</text>\n"
                    continue
                }
                let end = x(value)
                let valueText = Markup.number(value, decimals)
                out += "<rect x=\"\(c(min(zero, end)))\" y=\"\(c(y))\" width=\"\(c(max(abs(end - zero), 0.5)))\" "
                    + "height=\"\(c(Self.barHeight))\" fill=\"\(Markup.escape(entry.color))\">"
                    + "<title>\(Markup.escape("\(category) \(entry.name): \(valueText) \(unit)"))</title></rect>"
                out += "<text x=\"\(c(max(zero, end) + 4))\" y=\"\(c(y + 10))\" font-size=\"10\">\(Markup.escape(valueText))</text>\n"
            }
        }
        out += "<line x1=\"\(c(zero))\" y1=\"\(c(Self.top - 4))\" x2=\"\(c(zero))\" y2=\"\(c(plotBottom))\" stroke=\"#333\"/>\n"
        return out + "</svg>"
    }

    static func tickText(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%g", value)
    }
}
