import Foundation
import OnboardCore
import OnboardModels
import OnboardSensors

/// The PETR graph's own inputs (what calibration and the per-layer diagnosis feed it): `images`
/// [N,3,H,W] and `coords3d` [N, depth_num * 3, h, w], computed as `PETRModel.run` computes them.
extension DetectionPipeline {
    /// The graph inputs of a recorded sample (decoded and preprocessed as detection does).
    public func graphInputs(_ sample: CameraSample) throws -> [String: Tensor] {
        var timing: [String: Double] = [:]
        let inputs = try self.inputs(sample, timing: &timing)
        guard let images = inputs["images"], let lidar2img = inputs["lidar2img"] else {
            throw OnboardError.model(item: "detection pipeline", reason: "no images or lidar2img for sample \(sample.token)")
        }
        return try Self.graphInputs(images: images, lidar2img: lidar2img, model: model, source: "sample \(sample.token)")
    }

    /// `images` as given and `coords3d` (the position-embedding input the head's `pe` asks for) from
    /// `lidar2img`; both must be finite.
    public static func graphInputs(images: Tensor, lidar2img: Tensor, model: PETRModel, source: String) throws -> [String: Tensor] {
        try images.requireFinite(name: "images", source: source)
        let coords = try model.coords3d(lidar2img: lidar2img, source: source)
        try coords.requireFinite(name: "coords3d", source: source)
        return ["images": images, "coords3d": coords]
    }
}
