import Foundation

/// Bird's-eye view of one sample as a standalone SVG: the lidar frame's origin at the centre, +x to the
/// right and +y up (for nuScenes LIDAR_TOP, +y is the car's forward direction), range rings every
/// 10 m, ground truth as outlines in one colour, predictions at or above the score threshold in
/// per-class colours with a heading tick, and a legend.
public enum BEVRenderer {
    public static func svg(boxes: [RenderBox], style: RenderStyle = RenderStyle(), title: String = "",
                           range: Double = 60, ringStep: Double = 10, pixelsPerMeter: Double = 6) -> String {
        let c = Markup.coordinate, e = Markup.escape
        let half = (range + 5) * pixelsPerMeter
        let legendWidth = 200.0
        let width = 2 * half + legendWidth, height = 2 * half
        func screen(_ p: SIMD3<Double>) -> (Double, Double) { (half + p.x * pixelsPerMeter, half - p.y * pixelsPerMeter) }

        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(c(width))\" height=\"\(c(height))\" "
            + "viewBox=\"0 0 \(c(width)) \(c(height))\" font-family=\"sans-serif\">\n"
        out += "<title>\(e(title.isEmpty ? "Bird's-eye view" : title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(c(2 * half))\" height=\"\(c(height))\" fill=\"#fafafa\"/>\n"
        // Range rings and axes.
        var ring = ringStep
        while ring <= range + 1e-9 {
            let r = ring * pixelsPerMeter
            out += "<circle cx=\"\(c(half))\" cy=\"\(c(half))\" r=\"\(c(r))\" fill=\"none\" stroke=\"#c8c8c8\"/>"
            out += "<text x=\"\(c(half + 3))\" y=\"\(c(half - r - 3))\" font-size=\"10\" fill=\"#888\">\(Int(ring)) m</text>\n"
            ring += ringStep
        }
        out += "<line x1=\"\(c(half))\" y1=\"0\" x2=\"\(c(half))\" y2=\"\(c(height))\" stroke=\"#e4e4e4\"/>"
        out += "<line x1=\"0\" y1=\"\(c(half))\" x2=\"\(c(2 * half))\" y2=\"\(c(half))\" stroke=\"#e4e4e4\"/>\n"
        // The sensor at the origin, pointing +y.
        out += "<polygon points=\"\(c(half)),\(c(half - 9)) \(c(half - 5)),\(c(half + 5)) \(c(half + 5)),\(c(half + 5))\" fill=\"#333\"/>\n"

        let shown = style.visible(boxes)
        for box in shown {
            let color = e(style.color(box))
            let footprint = box.corners.prefix(4).map(screen)
            let points = footprint.map { "\(c($0.0)),\(c($0.1))" }.joined(separator: " ")
            let label = box.isGroundTruth
                ? "ground truth: \(style.className(box.label))"
                : "\(style.className(box.label)) \(Markup.number(box.score, 2))"
            let fill = box.isGroundTruth ? "fill=\"none\" stroke-dasharray=\"4 2\"" : "fill=\"\(color)\" fill-opacity=\"0.25\""
            out += "<g><title>\(e(label))</title><polygon points=\"\(points)\" stroke=\"\(color)\" stroke-width=\"1.5\" \(fill)/>"
            let (cx, cy) = screen(box.center), (fx, fy) = screen(box.frontCenter)
            out += "<line x1=\"\(c(cx))\" y1=\"\(c(cy))\" x2=\"\(c(fx))\" y2=\"\(c(fy))\" stroke=\"\(color)\" stroke-width=\"1.5\"/></g>\n"
        }

        // Legend: ground truth, then the classes of the predictions drawn.
        var y = 24.0
        let x = 2 * half + 14
        out += "<text x=\"\(c(x))\" y=\"\(c(y))\" font-size=\"13\" font-weight=\"bold\">\(e(title))</text>\n"
        y += 22
        out += "<line x1=\"\(c(x))\" y1=\"\(c(y - 4))\" x2=\"\(c(x + 18))\" y2=\"\(c(y - 4))\" stroke=\"\(e(style.groundTruthColor))\" "
            + "stroke-width=\"2\" stroke-dasharray=\"4 2\"/><text x=\"\(c(x + 24))\" y=\"\(c(y))\" font-size=\"12\">ground truth "
            + "(\(boxes.filter(\.isGroundTruth).count))</text>\n"
        let predicted = shown.filter { !$0.isGroundTruth }
        for label in Set(predicted.map(\.label)).sorted() {
            y += 18
            let color = e(style.color(RenderBox(center: .zero, size: .zero, yaw: 0, label: label, isGroundTruth: false)))
            let count = predicted.filter { $0.label == label }.count
            out += "<rect x=\"\(c(x))\" y=\"\(c(y - 10))\" width=\"18\" height=\"10\" fill=\"\(color)\"/>"
                + "<text x=\"\(c(x + 24))\" y=\"\(c(y))\" font-size=\"12\">\(e(style.className(label))) (\(count))</text>\n"
        }
        y += 24
        out += "<text x=\"\(c(x))\" y=\"\(c(y))\" font-size=\"11\" fill=\"#555\">predictions with score ≥ "
            + "\(e(Markup.number(style.scoreThreshold, 2)))</text>\n"
        out += "<text x=\"\(c(x))\" y=\"\(c(y + 16))\" font-size=\"11\" fill=\"#555\">rings every \(e(Markup.number(ringStep, 0))) m; "
            + "up = +y</text>\n"
        return out + "</svg>\n"
    }
}
