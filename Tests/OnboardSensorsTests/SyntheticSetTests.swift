import Foundation
import OnboardCore
import OnboardSensors
import OnboardTestSupport
import XCTest

final class SyntheticSetTests: XCTestCase {
    func makeSet(seed: UInt64, at root: String) throws {
        var options = SyntheticSetOptions(scenes: 2, samplesPerScene: 2, seed: seed, version: "v1.0-t")
        options.lidar.azimuthSteps = 360
        options.threads = 2
        let rig = try CameraRig(path: CameraRig.resolve("tiny-2cam", root: TestPaths.root))
        try SyntheticSetWriter.write(rig: rig, options: options, to: root)
    }

    func files(under root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: "\(root)/\(relative)", isDirectory: &isDirectory)
            if !isDirectory.boolValue { out[relative] = FileManager.default.contents(atPath: "\(root)/\(relative)") }
        }
        return out
    }

    func test_sameSeedSameBytesOtherSeedOtherSet() throws {
        let directory = TestPaths.temporaryDirectory("synth")
        try makeSet(seed: 9, at: "\(directory)/a")
        try makeSet(seed: 9, at: "\(directory)/b")
        try makeSet(seed: 10, at: "\(directory)/c")
        let a = try files(under: "\(directory)/a"), b = try files(under: "\(directory)/b"), c = try files(under: "\(directory)/c")
        XCTAssertEqual(a.count, 14 + 1 + 2 * 2 * 3 + 1)   // tables + splits, map, (2 cameras + lidar) per sample, manifest
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a["v1.0-t/sample_annotation.json"], c["v1.0-t/sample_annotation.json"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["a", "b", "c"])
    }

    func test_setHasEveryClassLidarPointsAndCustomSplits() throws {
        let root = TestPaths.temporaryDirectory("synth") + "/set"
        try makeSet(seed: 21, at: root)
        let tables = try NuScenesTables(dataroot: root, version: "v1.0-t")
        XCTAssertEqual(Set(tables.category.records.map(\.name)), Set(SynthClass.allCases.map(\.categoryName)))
        XCTAssertEqual(try tables.customSplits(), ["synth_train": ["scene-0001"], "synth_val": ["scene-0002"]])
        for sample in tables.sample.records {
            let annotations = tables.annotations(ofSample: sample.token)
            let names = Set(annotations.compactMap { tables.categoryName(of: $0) })
            XCTAssertEqual(names.count, 10)
            // Most boxes are hit by the simulated lidar; those are the ones the devkit keeps.
            XCTAssertGreaterThan(annotations.filter { $0.num_lidar_pts > 0 }.count, annotations.count / 2)
            XCTAssertNoThrow(try tables.lidarEgoPose(ofSample: sample.token))
            for annotation in annotations {
                let name = tables.categoryName(of: annotation) ?? ""
                let attributes = tables.attributeNames(of: annotation)
                if name.hasPrefix("movable_object") { XCTAssertEqual(attributes, []) } else { XCTAssertEqual(attributes.count, 1) }
                // Constant-velocity objects: the devkit's velocity equals the drawn speed.
                let v = tables.velocity(of: annotation)
                XCTAssertEqual(attributes.first == "vehicle.moving", hypot(v.x, v.y) > 0.2 && name.hasPrefix("vehicle.") &&
                               !["vehicle.bicycle", "vehicle.motorcycle"].contains(name))
            }
        }
        let map = try XCTUnwrap(tables.map.records.first)
        let png = try XCTUnwrap(FileManager.default.contents(atPath: "\(root)/\(map.filename)"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let lidarFile = try XCTUnwrap(tables.keyFrame(ofSample: tables.sample.records[0].token, channel: "LIDAR_TOP"))
        let cloud = try XCTUnwrap(FileManager.default.contents(atPath: "\(root)/\(lidarFile.filename)"))
        XCTAssertEqual(cloud.count % 20, 0)
        XCTAssertGreaterThan(cloud.count, 0)
    }

    func test_existingOutputIsRefusedAndLeftAlone() throws {
        let directory = TestPaths.temporaryDirectory("synth")
        XCTAssertThrowsError(try makeSet(seed: 1, at: directory)) { XCTAssertTrue("\($0)".contains("already exists")) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }
}
