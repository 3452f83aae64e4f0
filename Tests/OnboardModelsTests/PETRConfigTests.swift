import Foundation
import OnboardCore
import OnboardModels
import OnboardTestSupport
import XCTest

/// The configs tools/export_petr.py writes for the official PETR models decode, validate and give
/// the official input shapes.
final class PETRConfigTests: XCTestCase {
    /// export_petr.py on projects/configs/petr/petr_vovnet_gridmask_p4_800x320.py
    static let vovnet800x320 = #"""
{"architecture": "petr", "num_cameras": 6, "image_size": [320, 800], "backbone": {"type": "vovnet", "spec": "V-99-eSE", "out_features": ["stage4", "stage5"], "in_channels": 3}, "neck": {"type": "cpfpn", "in_channels": [768, 1024], "out_channels": 256, "num_outs": 2}, "head": {"in_channels": 256, "embed_dims": 256, "num_heads": 8, "ffn_dims": 2048, "num_layers": 6, "num_query": 900, "num_classes": 10, "depth_num": 64, "depth_start": 1.0, "lid": true, "position_range": [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0], "pc_range": [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0], "max_num": 300, "post_center_range": [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0], "score_threshold": null, "layer_norm_eps": 1e-05, "pe": "petr"}, "preprocess": {"source_size": [900, 1600], "mean": [103.53, 116.28, 123.675], "std": [57.375, 57.12, 58.395], "to_rgb": false}, "class_names": ["car", "truck", "construction_vehicle", "bus", "trailer", "barrier", "motorcycle", "bicycle", "pedestrian", "traffic_cone"]}
"""#
    /// export_petr.py on projects/configs/petr/petr_r50dcn_gridmask_c5.py
    static let r50dcnC5 = #"""
{"architecture": "petr", "num_cameras": 6, "image_size": [512, 1408], "backbone": {"type": "resnet", "depth": 50, "out_indices": [3], "style": "caffe", "stem_channels": 64, "base_channels": 64, "frozen_bn_eps": 1e-05, "stage_with_dcn": [false, false, true, true], "deform_groups": 1}, "neck": null, "head": {"in_channels": 2048, "embed_dims": 256, "num_heads": 8, "ffn_dims": 2048, "num_layers": 6, "num_query": 900, "num_classes": 10, "depth_num": 64, "depth_start": 1.0, "lid": true, "position_range": [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0], "pc_range": [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0], "max_num": 300, "post_center_range": [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0], "score_threshold": null, "layer_norm_eps": 1e-05, "pe": "petr"}, "preprocess": {"source_size": [900, 1600], "mean": [103.53, 116.28, 123.675], "std": [1.0, 1.0, 1.0], "to_rgb": false}, "class_names": ["car", "truck", "construction_vehicle", "bus", "trailer", "barrier", "motorcycle", "bicycle", "pedestrian", "traffic_cone"]}
"""#

    func bundle(_ json: String) throws -> ModelBundle {
        let directory = TestPaths.temporaryDirectory("petr-config")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        try Data(json.utf8).write(to: URL(fileURLWithPath: "\(directory)/config.json"))
        return try ModelBundle(directory: directory)
    }

    func test_officialVoVNetConfig() throws {
        let b = try bundle(Self.vovnet800x320)
        guard let c = b.model as? PETRConfig else { return XCTFail("not PETR") }
        XCTAssertEqual(c.head.sineFeatures, 128)  // the official hard-coded num_feats
        XCTAssertEqual(c.head.positionChannels, 192)
        XCTAssertEqual(c.featureSize, [20, 50])  // stride 16: 6000 tokens over 6 cameras
        XCTAssertEqual(b.inputShapes(batch: 1), ["images": [6, 3, 320, 800], "coords3d": [6, 192, 20, 50]])
        XCTAssertEqual(try b.batchSize(for: b.inputShapes(batch: 1), source: "in"), 1)
        XCTAssertThrowsError(try b.batchSize(for: ["images": [6, 3, 320, 800], "coords3d": [6, 192, 20, 49]], source: "in")) { error in
            XCTAssertTrue("\(error)".contains("in: coords3d: shape [6, 192, 20, 49], model expects [6, 192, 20, 50]"), "\(error)")
        }
        XCTAssertEqual(c.classNames?.first, "car")
        XCTAssertEqual(c.preprocess?.std, [57.375, 57.12, 58.395])
    }

    func test_officialResNetDCNConfig() throws {
        let b = try bundle(Self.r50dcnC5)
        guard let c = b.model as? PETRConfig else { return XCTFail("not PETR") }
        XCTAssertNil(c.neck)
        XCTAssertEqual(c.head.inChannels, 2048)
        XCTAssertEqual(c.featureSize, [16, 44])  // stride 32 on 512x1408
        XCTAssertEqual(b.inputShapes(batch: 1)["coords3d"], [6, 192, 16, 44])
    }

    func test_headChannelsMustFitTheBackbone() throws {
        let json = Self.vovnet800x320.replacingOccurrences(of: #""in_channels": 256, "embed_dims""#, with: #""in_channels": 128, "embed_dims""#)
        XCTAssertThrowsError(try bundle(json)) { error in
            XCTAssertTrue("\(error)".contains("config.json: head.in_channels: 128 differ from the 256 channels"), "\(error)")
        }
    }
}
