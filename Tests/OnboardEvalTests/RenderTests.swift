import Foundation
import OnboardEval
import OnboardSensors
import OnboardTestSupport
import XCTest

/// Demo visuals: box corners in the mmdet3d 0.17 convention, projection and clipping against values
/// worked out by hand, well-formed SVG, an offline gallery.
final class RenderTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("render") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// A 1600x900 camera at the lidar origin looking along lidar +y (x right, z up):
    /// cam = (x, -z, y), K = [[500, 0, 800], [0, 500, 450], [0, 0, 1]], so u = 500 x / y + 800,
    /// v = -500 z / y + 450, depth = y.
    let lidarToImage = Matrix4([
        500, 800, 0, 0,
        0, 450, -500, 0,
        0, 1, 0, 0,
        0, 0, 0, 1,
    ])

    func assertClose(_ a: SIMD3<Double>, _ b: SIMD3<Double>, line: UInt = #line) {
        XCTAssertLessThan(max(abs(a.x - b.x), abs(a.y - b.y), abs(a.z - b.z)), 1e-9, "\(a) vs \(b)", line: line)
    }

    func test_cornersFollowTheMmdet3dYawConvention() {
        // yaw 0: the front points to -y, length (4) along y, width (2) along x.
        let box = RenderBox(center: [10, 5, 1], size: [2, 4, 2], yaw: 0, label: 0, isGroundTruth: true)
        XCTAssertEqual(box.heading, -Double.pi / 2, accuracy: 1e-15)
        let corners = box.corners
        XCTAssertEqual(corners.count, 8)
        assertClose(corners[0], [11, 3, 0])  // front-left (facing -y, left is +x)
        assertClose(corners[1], [9, 3, 0])  // front-right
        assertClose(corners[2], [9, 7, 0])  // rear-right
        assertClose(corners[3], [11, 7, 0])  // rear-left
        assertClose(corners[4], [11, 3, 2])  // top face, same order
        assertClose(box.frontCenter, [10, 3, 0])
        // A nuScenes heading of 0 (along +x) is yaw -pi/2: length along x.
        let east = RenderBox(center: [0, 0, 0], size: [2, 4, 2], heading: 0, label: 0, isGroundTruth: false)
        XCTAssertEqual(east.yaw, -Double.pi / 2, accuracy: 1e-15)
        assertClose(east.corners[0], [2, 1, -1])
        assertClose(east.corners[2], [-2, -1, -1])
    }

    func test_petrRowsAreLiftedToTheGravityCentre() throws {
        let box = try RenderBox(petrRow: [1, 2, -1.5, 2, 4, 1.6, 0.3, 0.5, 0], label: 8, score: 0.7)
        assertClose(box.center, [1, 2, -0.7])
        assertClose(box.size, [2, 4, 1.6])
        XCTAssertEqual(box.yaw, 0.3)
        XCTAssertEqual(box.label, 8)
        XCTAssertFalse(box.isGroundTruth)
        XCTAssertThrowsError(try RenderBox(petrRow: [1, 2, 3], label: 0, score: 1))
        XCTAssertThrowsError(try RenderBox(petrRow: [1, 2, .nan, 2, 4, 1.6, 0.3], label: 0, score: 1))
    }

    func test_projectionOfCornersMatchesHandComputedPixels() throws {
        // Heading +y (yaw -pi), 20 m ahead, bottom on z = 0.
        let box = RenderBox(center: [0, 20, 1], size: [2, 4, 2], heading: Double.pi / 2, label: 0, isGroundTruth: false)
        let corners = box.corners
        assertClose(corners[0], [-1, 22, 0])
        let bottomFrontLeft = try XCTUnwrap(CameraOverlay.project(corners[0], lidarToImage))
        XCTAssertEqual(bottomFrontLeft.x, 800 - 500.0 / 22, accuracy: 1e-9)  // 777.2727...
        XCTAssertEqual(bottomFrontLeft.y, 450, accuracy: 1e-9)
        let topFrontLeft = try XCTUnwrap(CameraOverlay.project(corners[4], lidarToImage))
        XCTAssertEqual(topFrontLeft.y, 450 - 1000.0 / 22, accuracy: 1e-9)  // 404.5454...
        let topRearRight = try XCTUnwrap(CameraOverlay.project(corners[6], lidarToImage))  // (1, 18, 2)
        XCTAssertEqual(topRearRight.x, 800 + 500.0 / 18, accuracy: 1e-9)
        XCTAssertEqual(topRearRight.y, 450 - 1000.0 / 18, accuracy: 1e-9)
        XCTAssertNil(CameraOverlay.project([0, -5, 0], lidarToImage))  // behind
        XCTAssertEqual(CameraOverlay.edges(box, lidarToImage: lidarToImage, width: 1600, height: 900).count, 12)
    }

    func test_edgesCrossingTheCameraPlaneAreCutAndClippedToTheImage() {
        // From y = -1.5 (behind) to y = 2.5 (in front): the 4 rear edges are dropped, the 4 side edges cut.
        let box = RenderBox(center: [0, 0.5, 1], size: [2, 4, 2], heading: Double.pi / 2, label: 0, isGroundTruth: false)
        let edges = CameraOverlay.edges(box, lidarToImage: lidarToImage, width: 1600, height: 900)
        XCTAssertEqual(edges.count, 8)
        func has(_ p: SIMD2<Double>, _ q: SIMD2<Double>) -> Bool {
            edges.contains { e in
                (max(abs(e.0.x - p.x), abs(e.0.y - p.y), abs(e.1.x - q.x), abs(e.1.y - q.y)) < 1e-9)
                    || (max(abs(e.0.x - q.x), abs(e.0.y - q.y), abs(e.1.x - p.x), abs(e.1.y - p.y)) < 1e-9)
            }
        }
        // Bottom-left side: (-1, 2.5, 0) projects to (600, 450); its near-plane point (-1, 0.1, 0) to u = -4200, clipped at u = 0.
        XCTAssertTrue(has([0, 450], [600, 450]), "\(edges)")
        // Bottom-right side: (1, 2.5, 0) -> (1000, 450), clipped at the right border.
        XCTAssertTrue(has([1000, 450], [1600, 450]), "\(edges)")
        // Front face, fully visible: the top edge at v = 450 - 1000 / 2.5 = 50.
        XCTAssertTrue(has([600, 50], [1000, 50]), "\(edges)")
        // Top-left side from (600, 50): v = 450 - 1000 / y leaves the image at v = 0, i.e. y = 20/9, u = 800 - 225.
        XCTAssertTrue(has([600, 50], [575, 0]), "\(edges)")
        for edge in edges {
            for p in [edge.0, edge.1] {
                XCTAssertTrue((0...1600).contains(p.x) && (0...900).contains(p.y), "\(p) outside the image")
            }
        }
    }

    func boxes() -> [RenderBox] {
        [
            RenderBox(center: [0, 20, 1], size: [2, 4, 2], heading: Double.pi / 2, label: 0, isGroundTruth: true),
            RenderBox(center: [0.3, 20.2, 1], size: [2, 4.2, 2], heading: 1.5, label: 0, score: 0.8, isGroundTruth: false),
            RenderBox(center: [-8, 30, 0.9], size: [0.6, 0.7, 1.8], yaw: 0, label: 8, score: 0.45, isGroundTruth: false),
            RenderBox(center: [5, 10, 1], size: [2, 4, 2], yaw: 0, label: 1, score: 0.1, isGroundTruth: false),  // below threshold
        ]
    }

    func test_bevSVGIsWellFormedWithRingsBoxesAndLegend() {
        let style = RenderStyle(classNames: RenderStyle.petrClassNames.map { $0 == "car" ? "car <&>" : $0 })
        let svg = BEVRenderer.svg(boxes: boxes(), style: style, title: "sample \"1\" <a>")
        XCTAssertTrue(isWellFormedXML(svg))
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 6)  // 10 ... 60 m
        XCTAssertTrue(svg.contains(">60 m<") && !svg.contains(">70 m<"))
        XCTAssertEqual(svg.components(separatedBy: "<polygon").count - 1, 1 + 3)  // the sensor, 1 GT + 2 predictions
        XCTAssertTrue(svg.contains("car &lt;&amp;&gt; (1)"))
        XCTAssertTrue(svg.contains("pedestrian (1)"))
        XCTAssertFalse(svg.contains("truck"))  // its only box is under the score threshold
        XCTAssertTrue(svg.contains("ground truth (1)"))
        // The GT box's footprint at 6 px/m around the centre (390, 390): x -1...1 -> 384...396, y 22...18 -> 258...282.
        XCTAssertTrue(svg.contains("points=\"384,258 396,258 396,282 384,282\""), svg)
    }

    func test_cameraSVGEmbedsTheJPEGAndDrawsVisibleBoxes() throws {
        let camera = RenderCamera(name: "CAM_FRONT", jpeg: [0xFF, 0xD8, 0xFF, 0xD9], width: 1600, height: 900, lidarToImage: lidarToImage)
        let svg = CameraOverlay.svg(camera: camera, boxes: boxes())
        XCTAssertTrue(isWellFormedXML(svg))
        XCTAssertTrue(svg.contains("href=\"data:image/jpeg;base64,/9j/2Q==\""))
        XCTAssertEqual(svg.components(separatedBy: "<path").count - 1, 3)  // GT + 2 predictions above 0.3
        XCTAssertTrue(svg.contains("stroke-dasharray"))  // ground truth
        // The GT box's bottom front edge from (-1, 22, 0) to (1, 22, 0).
        XCTAssertTrue(svg.contains("M777.27 450L822.73 450"), svg)
    }

    func test_galleryIsOfflineAndLinksEveryView() throws {
        let image = RGBImage(width: 16, height: 8, pixels: [UInt8](repeating: 128, count: 16 * 8 * 3))
        let jpegPath = "\(directory)/cam.jpg"
        try Data(try JPEGCodec.encode(image)).write(to: URL(fileURLWithPath: jpegPath))
        let camera = try RenderCamera(name: "CAM_FRONT", path: jpegPath, lidarToImage: lidarToImage)
        XCTAssertEqual(camera.width, 16)
        XCTAssertEqual(camera.height, 8)
        let back = RenderCamera(name: "CAM BACK/<1>", jpeg: camera.jpeg, width: 16, height: 8, lidarToImage: lidarToImage)
        let out = "\(directory)/gallery"
        let paths = try DemoGallery.write(title: "sample <1>", boxes: boxes(), cameras: [camera, back], to: out)
        XCTAssertEqual(paths.map { ($0 as NSString).lastPathComponent }, ["bev.svg", "CAM_FRONT.svg", "CAM_BACK__1_.svg", "index.html"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(),
                       ["CAM_BACK__1_.svg", "CAM_FRONT.svg", "bev.svg", "index.html"])
        let html = try String(contentsOfFile: "\(out)/index.html", encoding: .utf8)
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), html)
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertTrue(html.contains("<img src=\"CAM_FRONT.svg\""))
        XCTAssertTrue(html.contains("<img src=\"bev.svg\""))
        XCTAssertTrue(html.contains("CAM BACK/&lt;1&gt;"))
        XCTAssertTrue(html.contains("<title>sample &lt;1&gt;</title>"))
        for name in ["bev.svg", "CAM_FRONT.svg", "CAM_BACK__1_.svg"] {
            let svg = try String(contentsOfFile: "\(out)/\(name)", encoding: .utf8)
            XCTAssertTrue(isWellFormedXML(svg), name)
        }
        XCTAssertThrowsError(try RenderCamera(name: "x", path: "\(directory)/missing.jpg", lidarToImage: lidarToImage))
    }
}
