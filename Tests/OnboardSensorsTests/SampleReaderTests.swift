import Foundation
import OnboardCore
import OnboardSensors
import OnboardTestSupport
import XCTest

final class SampleReaderTests: XCTestCase {
    func test_lidar2imgMatchesPETRsNumpyComposition() throws {
        let root = TestPaths.fixture("nuscenes-synth-tiny")
        let tables = try NuScenesTables(dataroot: root, version: "v1.0-synth")
        var preprocessing = PETRPreprocessing.vovnet800x320
        preprocessing.width = 80; preprocessing.height = 32
        let reader = try NuScenesSampleReader(tables: tables, channels: ["CAM_FRONT", "CAM_BACK"], preprocessing: preprocessing)
        let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(root)/expected_lidar2img.json"))
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let samples = try XCTUnwrap(expected["samples"] as? [String: [String: [String: [[Double]]]]])
        let listing = try reader.samples()
        XCTAssertEqual(Set(listing.samples.map(\.token)), Set(samples.keys))
        for sample in listing.samples {
            for camera in sample.cameras {
                let reference = try XCTUnwrap(samples[sample.token]?[camera.channel])
                for (key, actual) in [("lidar2img", camera.lidarToImage), ("network_lidar2img", camera.lidarToNetworkImage)] {
                    let values = try XCTUnwrap(reference[key]).flatMap { $0 }
                    for (a, e) in zip(actual.values, values) {
                        XCTAssertEqual(a, e, accuracy: 1e-9 * max(1, abs(e)), "\(sample.token) \(camera.channel) \(key)")
                    }
                }
            }
        }
    }

    func test_boxCentreProjectsOntoTheRenderedBox() throws {
        let rig = try CameraRig(path: CameraRig.resolve("tiny-2cam", root: TestPaths.root))
        let scenario = SynthScenario(seed: 3, sceneIndex: 0, samples: 1, sampleInterval: 500_000, extraObjects: 20)
        let time = scenario.startTime
        let world = scenario.world(at: time, gain: 1, noise: 0, noiseSeed: 0)
        let lidarPose = scenario.egoPose(at: time)
        let lidarEgo = RigidTransform(rotation: lidarPose.rotation.matrix, translation: lidarPose.translation)
        let lidarToGlobal = lidarEgo.composed(after: try rig.lidarToEgo())
        var hits = 0
        for (c, camera) in rig.cameras.enumerated() {
            let cameraPose = scenario.egoPose(at: time + Int64(c) * 20_000)   // cameras fire after the lidar
            let cameraEgo = RigidTransform(rotation: cameraPose.rotation.matrix, translation: cameraPose.translation)
            let intrinsic = Matrix3(camera.intrinsic.flatMap { $0 })
            let view = SynthRenderer(width: rig.image_width, height: rig.image_height, intrinsic: intrinsic,
                                     cameraToGlobal: cameraEgo.composed(after: try rig.cameraToEgo(camera)), threads: 2)
                .render(world, cameraSalt: 0)
            let lidarToCamera = SampleGeometry.lidarToCamera(cameraToEgo: try rig.cameraToEgo(camera), cameraEgoToGlobal: cameraEgo,
                                                             lidarToEgo: try rig.lidarToEgo(), lidarEgoToGlobal: lidarEgo)
            let lidarToImage = SampleGeometry.lidarToImage(intrinsic: intrinsic, lidarToCamera: lidarToCamera)
            for (i, box) in world.boxes.enumerated() {
                guard let (u, v, depth) = SampleGeometry.project(lidarToGlobal.inverse.apply(box.center), lidarToImage: lidarToImage)
                else { continue }
                let x = Int(u.rounded()), y = Int(v.rounded())
                guard (0..<rig.image_width).contains(x), (0..<rig.image_height).contains(y) else { continue }
                let drawn = Int(view.boxIndex[y * rig.image_width + x])
                if drawn == i { hits += 1; continue }
                // Only a nearer box may cover the centre.
                XCTAssertGreaterThanOrEqual(drawn, 0, "box \(i) (\(box.cls)) at (\(x), \(y)) shows ground or sky")
                let occluder = lidarToGlobal.inverse.apply(world.boxes[max(drawn, 0)].center)
                XCTAssertLessThan(lidarToCamera.apply(occluder).z, depth + 1, "box \(i) covered by a farther box")
            }
        }
        XCTAssertGreaterThanOrEqual(hits, 4)
    }

    func test_badImageIsAnErrorNamingSampleAndChannelOrSkippedWithSkipBad() throws {
        let root = TestPaths.temporaryDirectory("reader") + "/set"
        var options = SyntheticSetOptions(scenes: 1, samplesPerScene: 3, seed: 5, version: "v1.0-t")
        options.lidar.azimuthSteps = 180
        options.extraObjectsPerScene = 0
        let rig = try CameraRig(path: CameraRig.resolve("tiny-2cam", root: TestPaths.root))
        try SyntheticSetWriter.write(rig: rig, options: options, to: root)
        let tables = try NuScenesTables(dataroot: root, version: "v1.0-t")
        var preprocessing = PETRPreprocessing.vovnet800x320
        preprocessing.width = 80; preprocessing.height = 32
        let strict = try NuScenesSampleReader(tables: tables, channels: ["CAM_FRONT", "CAM_BACK"], preprocessing: preprocessing)
        let samples = try strict.samples().samples
        XCTAssertEqual(samples.count, 3)
        XCTAssertTrue(samples.allSatisfy { $0.boxes.count == 10 })
        let broken = try XCTUnwrap(samples[1].cameras.last)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: broken.path))
        try AtomicFile(path: broken.path).write(bytes: [UInt8](bytes.prefix(bytes.count / 3)))

        let prefetcher = SamplePrefetcher(reader: strict, samples: samples, threads: 2)
        let first = try XCTUnwrap(try prefetcher.next())
        XCTAssertEqual(first.images.shape, [2, 3, 32, 80])
        XCTAssertThrowsError(try prefetcher.next()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(samples[1].token) && text.contains("CAM_BACK") && text.contains(".jpg"), text)
        }

        let lenient = try NuScenesSampleReader(tables: tables, channels: ["CAM_FRONT", "CAM_BACK"],
                                               preprocessing: preprocessing, skipBad: true)
        let skipping = SamplePrefetcher(reader: lenient, samples: samples, threads: 2)
        var read: [String] = []
        while let item = try skipping.next() { read.append(item.sample.token) }
        XCTAssertEqual(read, [samples[0].token, samples[2].token])
        XCTAssertEqual(skipping.skippedCount, 1)

        // A channel the set does not have: an error naming sample and channel, or skipped.
        let missing = try NuScenesSampleReader(tables: tables, channels: ["CAM_FRONT", "CAM_FRONT_LEFT"], preprocessing: preprocessing)
        XCTAssertThrowsError(try missing.samples()) { XCTAssertTrue("\($0)".contains("CAM_FRONT_LEFT")) }
        let missingLenient = try NuScenesSampleReader(tables: tables, channels: ["CAM_FRONT_LEFT"], preprocessing: preprocessing,
                                                      skipBad: true)
        XCTAssertEqual(try missingLenient.samples().skipped.count, 3)
    }
}
