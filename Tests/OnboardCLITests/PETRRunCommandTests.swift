import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `onboard run` on a PETR bundle (features + lidar2img in, official head outputs and decoded boxes out).
final class PETRRunCommandTests: XCTestCase {
    var directory = ""
    let fixture = TestPaths.fixture("petr/tiny_lid")

    override func setUp() { directory = TestPaths.temporaryDirectory("cli-petr") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func test_runWritesHeadOutputsAndBoxes() throws {
        let out = "\(directory)/out.safetensors"
        let result = try Onboard.run(["run", "--model", fixture, "--inputs", "\(fixture)/inputs.safetensors", "--out", out, "--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let written = try SafeTensorsFile(path: out)
        XCTAssertEqual(Set(written.names), ["all_cls_scores", "all_bbox_preds", "boxes", "scores", "labels", "queries"])
        let reference = try SafeTensorsFile(path: "\(fixture)/reference.safetensors")
        for key in ["all_cls_scores", "all_bbox_preds"] {
            let (error, magnitude) = maxErrors(try written.tensor(key).floats(), try reference.tensor(key).floats())
            XCTAssertLessThanOrEqual(error, 1e-4 * magnitude, key)
        }
        XCTAssertEqual(try written.tensor("boxes").shape, [50, 9])
        XCTAssertEqual(try written.tensor("labels").dtype, .i32)
        XCTAssertEqual(try written.tensor("scores").shape, [50])
    }

    func test_badInputsAreOneLineErrors() throws {
        let out = "\(directory)/out.safetensors"
        let inputs = try SafeTensorsFile(path: "\(fixture)/inputs.safetensors")
        let features = try inputs.tensor("features"), lidar2img = try inputs.tensor("lidar2img")
        let missing = "\(directory)/missing.safetensors"
        try SafeTensorsWriter.write([("features", features)], to: missing)
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", missing, "--out", out]),
                        status: 1, contains: "missing.safetensors: lidar2img: missing")
        let singular = "\(directory)/singular.safetensors"
        try SafeTensorsWriter.write([("features", features), ("lidar2img", Tensor(zeros: [2, 4, 4]))], to: singular)
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", singular, "--out", out]),
                        status: 1, contains: "singular.safetensors: lidar2img: camera 0's matrix is singular")
        let wrong = "\(directory)/wrong.safetensors"
        try SafeTensorsWriter.write([("features", Tensor(zeros: [3, 16, 4, 8])), ("lidar2img", lidar2img)], to: wrong)
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", wrong, "--out", out]),
                        status: 1, contains: "wrong.safetensors: features: shape [3, 16, 4, 8], the model expects [2, 16, h, w]")
        let images = "\(directory)/images.safetensors"
        try SafeTensorsWriter.write([("images", Tensor(zeros: [2, 3, 32, 64])), ("lidar2img", lidar2img)], to: images)
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", images, "--out", out]),
                        status: 1, contains: "backbone: the bundle has none")
        let nan = "\(directory)/nan.safetensors"
        let bad = lidar2img.copied()
        bad.floatPointer[0] = .nan
        try SafeTensorsWriter.write([("features", features), ("lidar2img", bad)], to: nan)
        assertUserError(try Onboard.run(["run", "--model", fixture, "--inputs", nan, "--out", out]),
                        status: 1, contains: "nan.safetensors: lidar2img: element 0 is not finite")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
