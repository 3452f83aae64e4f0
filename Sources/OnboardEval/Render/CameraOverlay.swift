import Foundation
import OnboardCore
import OnboardSensors

/// One camera image to draw boxes on.
public struct RenderCamera: Sendable {
    public var name: String
    /// The JPEG file's bytes (embedded as a data URI).
    public var jpeg: [UInt8]
    /// The image's pixel grid.
    public var width: Int
    public var height: Int
    /// Lidar -> pixels of this image (`CameraFrame.lidarToImage` for the original JPEG): row 2 of the
    /// result is the depth along the optical axis.
    public var lidarToImage: Matrix4

    public init(name: String, jpeg: [UInt8], width: Int, height: Int, lidarToImage: Matrix4) {
        self.name = name
        self.jpeg = jpeg
        self.width = width
        self.height = height
        self.lidarToImage = lidarToImage
    }

    /// Reads a JPEG file; its size comes from its header.
    public init(name: String, path: String, lidarToImage: Matrix4) throws {
        let data = try InputFile.read(path, what: "image")
        let bytes = [UInt8](data)
        let size = try JPEGCodec.size(of: bytes, path: path)
        self.init(name: name, jpeg: bytes, width: size.width, height: size.height, lidarToImage: lidarToImage)
    }
}

/// Projects 3D boxes into a camera image and draws them over the image as a standalone SVG.
public enum CameraOverlay {
    /// Points closer than this (metres along the optical axis) count as behind the camera.
    public static let nearDepth = 0.1

    /// Pixel coordinates of a lidar point, nil when it is not in front of the camera.
    public static func project(_ point: SIMD3<Double>, _ lidarToImage: Matrix4) -> SIMD2<Double>? {
        let h = lidarToImage.apply(point)
        guard h[2] >= nearDepth else { return nil }
        return SIMD2(h[0] / h[2], h[1] / h[2])
    }

    /// The box's 12 edges in pixels: an edge with one corner behind the camera is cut where it crosses
    /// the near plane, one with both behind is dropped, and every edge is clipped to the image.
    public static func edges(_ box: RenderBox, lidarToImage: Matrix4, width: Int, height: Int)
        -> [(SIMD2<Double>, SIMD2<Double>)] {
        let homogeneous = box.corners.map { lidarToImage.apply($0) }
        var result: [(SIMD2<Double>, SIMD2<Double>)] = []
        for (i, j) in RenderBox.edges {
            var a = homogeneous[i], b = homogeneous[j]
            if a[2] < nearDepth && b[2] < nearDepth { continue }
            // The projection is affine in the point, so the homogeneous result is linear along the edge.
            if a[2] < nearDepth { a = a + (b - a) * ((nearDepth - a[2]) / (b[2] - a[2])) }
            if b[2] < nearDepth { b = b + (a - b) * ((nearDepth - b[2]) / (a[2] - b[2])) }
            let p = SIMD2(a[0] / a[2], a[1] / a[2]), q = SIMD2(b[0] / b[2], b[1] / b[2])
            if let clipped = clip(p, q, width: Double(width), height: Double(height)) { result.append(clipped) }
        }
        return result
    }

    /// Liang-Barsky clipping of segment p-q to [0, width] x [0, height]; nil when it lies outside.
    static func clip(_ p: SIMD2<Double>, _ q: SIMD2<Double>, width: Double, height: Double) -> (SIMD2<Double>, SIMD2<Double>)? {
        let d = q - p
        var t0 = 0.0, t1 = 1.0
        for (denominator, numerator) in [(-d.x, p.x), (d.x, width - p.x), (-d.y, p.y), (d.y, height - p.y)] {
            if denominator == 0 {
                if numerator < 0 { return nil }
                continue
            }
            let t = numerator / denominator
            if denominator < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
            if t0 > t1 { return nil }
        }
        return (p + d * t0, p + d * t1)
    }

    /// The image as a data URI with the visible boxes' edges over it (ground truth dashed).
    public static func svg(camera: RenderCamera, boxes: [RenderBox], style: RenderStyle = RenderStyle()) -> String {
        let c = Markup.coordinate, e = Markup.escape
        let w = camera.width, h = camera.height
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" "
            + "font-family=\"sans-serif\">\n<title>\(e(camera.name))</title>\n"
        out += "<image x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" preserveAspectRatio=\"none\" "
            + "href=\"data:image/jpeg;base64,\(Data(camera.jpeg).base64EncodedString())\"/>\n"
        let stroke = max(1.5, Double(w) / 640)
        for box in style.visible(boxes) {
            let segments = edges(box, lidarToImage: camera.lidarToImage, width: w, height: h)
            guard !segments.isEmpty else { continue }
            let path = segments.map { "M\(c($0.0.x)) \(c($0.0.y))L\(c($0.1.x)) \(c($0.1.y))" }.joined()
            let label = box.isGroundTruth
                ? "ground truth: \(style.className(box.label))"
                : "\(style.className(box.label)) \(Markup.number(box.score, 2))"
            let dash = box.isGroundTruth ? " stroke-dasharray=\"6 3\"" : ""
            out += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(e(style.color(box)))\" stroke-width=\"\(c(stroke))\"\(dash)>"
                + "<title>\(e(label))</title></path>\n"
        }
        let fontSize = max(14.0, Double(h) / 30)
        out += "<text x=\"\(c(fontSize / 2))\" y=\"\(c(fontSize * 1.3))\" font-size=\"\(c(fontSize))\" fill=\"#fff\" "
            + "stroke=\"#000\" stroke-width=\"0.6\">\(e(camera.name))</text>\n"
        return out + "</svg>\n"
    }
}
