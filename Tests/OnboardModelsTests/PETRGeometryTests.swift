import Foundation
import OnboardCore
@testable import OnboardModels
import OnboardTestSupport
import XCTest

/// Hand-checked values of the PETR geometry and box decoding (reference §5 of
/// petr-qpetr-nuscenes.md).
final class PETRGeometryTests: XCTestCase {
    func head(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> PETRConfig.Head {
        var json: [String: Any] = ["in_channels": 8, "embed_dims": 16, "num_heads": 2, "ffn_dims": 32, "num_layers": 1,
                                   "num_query": 4, "num_classes": 3, "depth_num": 64, "max_num": 6]
        edit(&json)
        let data = try JSONSerialization.data(withJSONObject: ["num_cameras": 1, "image_size": [32, 64], "head": json])
        return try PETRConfig.decode(data, path: "config.json").head
    }

    func test_depthBins() throws {
        let lid = PETRGeometry.depthBins(try head())
        XCTAssertEqual(lid.first, 1)
        let last: Double = 1 + 60.2 * 63 * 64 / (64 * 65)
        XCTAssertEqual(lid.last ?? 0, last, accuracy: 1e-5)  // about 59.35 m
        XCTAssertEqual(lid.last ?? 0, 59.35, accuracy: 0.01)
        let uid = PETRGeometry.depthBins(try head { $0["lid"] = false; $0["depth_num"] = 4; $0["depth_start"] = 2 })
        let step: Double = 59.2 / 4
        let expected: [Double] = [2, 2 + step, 2 + 2 * step, 2 + 3 * step]
        for (a, b) in zip(uid, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(uid.count, 4)
    }

    func test_defaultsAreTheOfficialOnes() throws {
        let h = try head()
        XCTAssertEqual(h.positionRange, [-61.2, -61.2, -10, 61.2, 61.2, 10])
        XCTAssertEqual(h.pcRange, [-51.2, -51.2, -5, 51.2, 51.2, 3])
        XCTAssertEqual(h.postCenterRange, h.positionRange)
        XCTAssertEqual(h.depthStart, 1)
        XCTAssertTrue(h.lid)
        XCTAssertNil(h.scoreThreshold)
        XCTAssertEqual(h.layerNormEps, 1e-5)
        XCTAssertNil(try head { $0["post_center_range"] = NSNull() }.postCenterRange)  // explicit null: no filter
    }

    func test_configRoundTripsThroughJSON() throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: TestPaths.fixture("petr/vit_cpfpn_images/config.json")))
        var config = try PETRConfig.decode(data, path: "config.json")
        config.head.postCenterRange = nil
        config.head.scoreThreshold = 0.3
        let again = try PETRConfig.decode(try JSONEncoder().encode(config), path: "again.json")
        XCTAssertEqual(again, config)
        XCTAssertNotNil(again.backbone)
    }

    func test_inverseSigmoidClamps() {
        XCTAssertEqual(PETRGeometry.inverseSigmoid(0.5), 0)
        XCTAssertEqual(PETRGeometry.inverseSigmoid(-3), log(1e-5), accuracy: 1e-12)
        XCTAssertEqual(PETRGeometry.inverseSigmoid(7), -log(1e-5), accuracy: 1e-12)  // +11.51
        XCTAssertEqual(PETRGeometry.inverseSigmoid(0.25), log(1.0 / 3), accuracy: 1e-12)
    }

    /// Identity lidar2img: the point of cell (i, j) at depth d is (u d, v d, d), u = j W / w.
    func test_coords3dChannelOrderAndPixelCorners() throws {
        let h = try head {
            $0["depth_num"] = 2; $0["lid"] = false; $0["depth_start"] = 1
            $0["position_range"] = [-100, -100, -100, 100, 100, 100]
        }
        let identity = try Tensor(shape: [1, 4, 4], values: (0..<16).map { $0 % 5 == 0 ? 1 : 0 })
        let coords = try PETRGeometry.coords3d(head: h, imageSize: [32, 64], featureSize: [2, 4], lidar2img: identity, source: "x")
        XCTAssertEqual(coords.shape, [1, 6, 2, 4])
        let values = coords.floats()
        func at(_ channel: Int, _ i: Int, _ j: Int) -> Float { values[channel * 8 + i * 4 + j] }
        func expected(_ x: Double) -> Float { Float(PETRGeometry.inverseSigmoid((x + 100) / 200)) }
        let depths = [1.0, 1 + 99.0 / 2]
        for (k, d) in depths.enumerated() {
            for i in 0..<2 {
                for j in 0..<4 {
                    let u = Double(j) * 64 / 4, v = Double(i) * 32 / 2
                    XCTAssertEqual(at(k * 3 + 0, i, j), expected(u * d), accuracy: 1e-5)
                    XCTAssertEqual(at(k * 3 + 1, i, j), expected(v * d), accuracy: 1e-5)
                    XCTAssertEqual(at(k * 3 + 2, i, j), expected(d), accuracy: 1e-5)
                }
            }
        }
    }

    func test_invert4x4() throws {
        let m: [Double] = [2, 0, 0, 1, 0, 0, 3, 2, 0, 4, 0, 3, 0, 0, 0, 1]
        let inverse = try XCTUnwrap(PETRGeometry.invert4x4(m))
        for r in 0..<4 {
            for c in 0..<4 {
                let value = (0..<4).reduce(0.0) { $0 + m[r * 4 + $1] * inverse[$1 * 4 + c] }
                XCTAssertEqual(value, r == c ? 1 : 0, accuracy: 1e-12)
            }
        }
        XCTAssertNil(PETRGeometry.invert4x4([Double](repeating: 1, count: 16)))
        XCTAssertNil(PETRGeometry.invert4x4([Double](repeating: 0, count: 16)))
    }

    /// The 3D sine encoding puts all sines then all cosines per axis (camera, y, x);
    /// pos2posemb3d interleaves sin and cos per axis in (y, x, z) order.
    func test_sinCosLayouts() {
        let f = 8
        let sine = PETRGeometry.sineEncoding3D(cameras: 2, height: 3, width: 4, numFeats: f)
        XCTAssertEqual(sine.shape, [2, 24, 3, 4])
        let s = sine.floats()
        func at(_ n: Int, _ c: Int, _ i: Int, _ j: Int) -> Float { s[((n * 24 + c) * 3 + i) * 4 + j] }
        let camera = 2 / (2 + 1e-6) * 2 * Double.pi, row = 2 / (3 + 1e-6) * 2 * Double.pi, column = 4 / (4 + 1e-6) * 2 * Double.pi
        let t1 = pow(10000.0, 2.0 / 8)
        XCTAssertEqual(at(1, 0, 0, 0), Float(sin(camera)), accuracy: 1e-6)       // camera axis, sin k=0
        XCTAssertEqual(at(1, 1, 0, 0), Float(sin(camera / t1)), accuracy: 1e-6)  // sin k=2
        XCTAssertEqual(at(1, 4, 0, 0), Float(cos(camera)), accuracy: 1e-6)       // cos k=1 after the 4 sines
        XCTAssertEqual(at(0, 8 + 1, 1, 0), Float(sin(row / t1)), accuracy: 1e-6)  // y axis
        XCTAssertEqual(at(0, 16 + 5, 0, 3), Float(cos(column / t1)), accuracy: 1e-6)  // x axis, cos k=3

        let embedded = PETRGeometry.pos2posemb3d([0.1, 0.2, 0.3], numFeats: f).floats()
        XCTAssertEqual(embedded.count, 24)
        let y = 0.2 * 2 * Double.pi, x = 0.1 * 2 * Double.pi, z = 0.3 * 2 * Double.pi
        XCTAssertEqual(embedded[0], Float(sin(y)), accuracy: 1e-6)
        XCTAssertEqual(embedded[1], Float(cos(y)), accuracy: 1e-6)
        XCTAssertEqual(embedded[2], Float(sin(y / t1)), accuracy: 1e-6)
        XCTAssertEqual(embedded[8], Float(sin(x)), accuracy: 1e-6)
        XCTAssertEqual(embedded[16 + 3], Float(cos(z / t1)), accuracy: 1e-6)
    }

    func test_bboxPredictionsScaleCentresByPCRange() throws {
        // One layer, one query at reference (0.5, 0.25, 0.75): raw 0 gives the reference point.
        let raw = try Tensor(shape: [1, 1, 10], values: [0, 0, 1, 2, 0, 3, 4, 5, 6, 7])
        let out = try PETRDecoding.bboxPredictions(raw: raw, referencePoints: [0.5, 0.25, 0.75],
                                                  pcRange: [-51.2, -51.2, -5, 51.2, 51.2, 3]).floats()
        XCTAssertEqual(out[0], 0, accuracy: 1e-5)
        XCTAssertEqual(out[1], -25.6, accuracy: 1e-4)
        XCTAssertEqual(out[4], 1, accuracy: 1e-5)
        XCTAssertEqual(Array(out[5...]), [3, 4, 5, 6, 7])
        XCTAssertEqual(out[2], 1)
        XCTAssertEqual(out[3], 2)
    }

    func test_decodeRanksFiltersAndConvertsToBottomCentre() throws {
        var h = try head { $0["num_query"] = 3; $0["num_classes"] = 2; $0["max_num"] = 4 }
        // Logits [L=1, Q=3, C=2]: flat order by score 5 (q2 c1), 4, 4 (tie: q0 c1 before q1 c0), 1, ...
        let classes = try Tensor(shape: [1, 3, 2], values: [0, 4, 4, -1, 1, 5])
        let preds = try Tensor(shape: [1, 3, 10], values: [
            1, 2, 0, 0, 3, log(2), 0, 1, 0.5, 0.25,             // q0: size 1x1x2, yaw 0, cz 3
            70, 0, 0, 0, 0, 0, 1, 0, 0, 0,                      // q1: x = 70 is out of post_center_range
            -1, -2, log(2), log(3), -1, log(4), 1, 1, 0, 0,     // q2: yaw pi/4
        ])
        var d = try PETRDecoding.decode(classScores: classes, bboxPredictions: preds, head: h)
        XCTAssertEqual(d.labels.floats(), [1, 1, 0])  // (q2, c1), (q0, c1), (q2, c0); (q1, c0) filtered
        XCTAssertEqual(d.queries.floats(), [2, 0, 2])
        XCTAssertEqual(d.scores.floats()[0], Float(1 / (1 + exp(-5.0))), accuracy: 1e-7)
        let boxes = d.boxes.floats()
        XCTAssertEqual(Array(boxes[0..<9]).map { ($0 * 1e4).rounded() / 1e4 },
                       [-1, -2, -3, 2, 3, 4, Float((Double.pi / 4 * 1e4).rounded() / 1e4), 0, 0])
        XCTAssertEqual(Array(boxes[9..<18]), [1, 2, 2, 1, 1, 2, 0, 0.5, 0.25])  // z_bottom = 3 - 2 / 2
        // A score threshold drops scores at or below it; 0 disables it (the official `if score_threshold:`).
        h.scoreThreshold = Float(1 / (1 + exp(-4.5)))
        d = try PETRDecoding.decode(classScores: classes, bboxPredictions: preds, head: h)
        XCTAssertEqual(d.count, 1)
        h.scoreThreshold = 0
        XCTAssertEqual(try PETRDecoding.decode(classScores: classes, bboxPredictions: preds, head: h).count, 3)
        h.postCenterRange = nil
        XCTAssertEqual(try PETRDecoding.decode(classScores: classes, bboxPredictions: preds, head: h).count, 4)
    }

    /// The top-k ranking is the full ranking's prefix: largest logit first, equal logits by index.
    func test_topIndicesAreTheFullRankingsPrefix() {
        var random = TestRandom(seed: 12)
        for (size, count) in [(1, 1), (10, 3), (2000, 300), (2000, 2000), (57, 300)] {
            // Few distinct values, so that ties straddle the cut.
            let logits = (0..<size).map { _ in Float(random.int(in: -20...20)) / 4 }
            let full = logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
            let top = logits.withUnsafeBufferPointer { PETRDecoding.topIndices($0, count: count) }
            XCTAssertEqual(top, Array(full.prefix(count)), "\(size) logits, top \(count)")
        }
    }
}
