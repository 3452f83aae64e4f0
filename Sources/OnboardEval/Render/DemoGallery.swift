import Foundation
import OnboardCore

/// A directory a person opens offline: `bev.svg`, one SVG per camera and an `index.html` grid that shows
/// them (relative links only: no scripts, no network). Each file is written atomically.
public enum DemoGallery {
    /// Renders the sample's bird's-eye view and camera overlays and writes them with the index page;
    /// returns the paths written.
    @discardableResult
    public static func write(title: String, boxes: [RenderBox], cameras: [RenderCamera], style: RenderStyle = RenderStyle(),
                             to directory: String) throws -> [String] {
        let bev = BEVRenderer.svg(boxes: boxes, style: style, title: title)
        let views = cameras.map { (name: $0.name, svg: CameraOverlay.svg(camera: $0, boxes: boxes, style: style)) }
        return try write(title: title, bev: bev, cameras: views, to: directory)
    }

    /// Writes already rendered SVGs and the index page.
    @discardableResult
    public static func write(title: String, bev: String, cameras: [(name: String, svg: String)], to directory: String) throws -> [String] {
        try OutputDirectory.ensure(directory)
        var used: Set<String> = ["bev", "index"]
        let cameraFiles = cameras.map { camera -> (name: String, file: String, svg: String) in
            var base = fileStem(camera.name), suffix = 2
            while used.contains(base) { base = "\(fileStem(camera.name))-\(suffix)"; suffix += 1 }
            used.insert(base)
            return (camera.name, base + ".svg", camera.svg)
        }
        let files = [("bev.svg", bev)] + cameraFiles.map { ($0.file, $0.svg) }
            + [("index.html", indexHTML(title: title, cameras: cameraFiles.map { ($0.name, $0.file) }))]
        var paths: [String] = []
        for (name, text) in files {
            let path = (directory as NSString).appendingPathComponent(name)
            try AtomicFile(path: path).write(string: text)
            paths.append(path)
        }
        return paths
    }

    /// A safe file name stem: letters, digits, '-' and '_' kept, everything else '_'.
    static func fileStem(_ name: String) -> String {
        let stem = String(name.unicodeScalars.map { scalar -> Character in
            let ascii = scalar.isASCII ? Character(scalar) : "_"
            return ascii.isLetter || ascii.isNumber || ascii == "-" || ascii == "_" ? ascii : "_"
        })
        return stem.isEmpty ? "camera" : stem
    }

    static func indexHTML(title: String, cameras: [(name: String, file: String)]) -> String {
        let e = Markup.escape
        let tiles = cameras.map { camera in
            "<figure><a href=\"\(e(camera.file))\"><img src=\"\(e(camera.file))\" alt=\"\(e(camera.name))\"></a>"
                + "<figcaption>\(e(camera.name))</figcaption></figure>"
        }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(e(title))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
            .grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
            figure { margin: 0; }
            img { width: 100%; height: auto; border: 1px solid #ccc; }
            .bev img { max-width: 980px; }
            </style>
            </head>
            <body>
            <h1>\(e(title))</h1>
            <div class="grid">
            \(tiles)
            </div>
            <figure class="bev"><a href="bev.svg"><img src="bev.svg" alt="bird's-eye view"></a><figcaption>bird's-eye view</figcaption></figure>
            </body>
            </html>

            """
    }
}
