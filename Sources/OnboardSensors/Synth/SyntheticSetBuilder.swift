import Foundation
import OnboardCore

/// Builds the records and files of a synthetic set under `root` (see `SyntheticSetWriter`).
struct SyntheticSetBuilder {
    let rig: CameraRig
    let options: SyntheticSetOptions
    let root: String
    let progress: (String) -> Void

    private var records = NuScenesRecords()

    init(rig: CameraRig, options: SyntheticSetOptions, root: String, progress: @escaping (String) -> Void) {
        self.rig = rig; self.options = options; self.root = root; self.progress = progress
    }

    func token(_ kind: String, _ indices: Int...) -> String {
        var h1 = SynthShading.hash(options.seed, fnv(kind))
        for i in indices { h1 = SynthShading.hash(h1, UInt64(bitPattern: Int64(i))) }
        let h2 = SynthShading.hash(h1, 0x70CE)
        return String(format: "%016llx%016llx", h1, h2)
    }

    private func fnv(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    mutating func build() throws -> SyntheticSetWriter.Summary {
        let channels = rig.cameras.map(\.channel) + ["LIDAR_TOP"]
        for directory in [options.version, "maps"] + channels.map({ "samples/\($0)" }) {
            try makeDirectory((root as NSString).appendingPathComponent(directory))
        }
        addStaticTables()
        let mapToken = token("map")
        let mapFile = "maps/\(mapToken).png"
        try write(PNGWriter.grayscale(width: 64, height: 64, pixels: [UInt8](repeating: 255, count: 64 * 64)), to: mapFile)
        records.map = [NuScenesMap(token: mapToken, log_tokens: (0..<options.scenes).map { token("log", $0) },
                                   category: "semantic_prior", filename: mapFile)]
        var summary = SyntheticSetWriter.Summary()
        var sceneNames: [String] = []
        for scene in 0..<options.scenes {
            sceneNames.append(try addScene(scene, summary: &summary))
        }
        let validationCount = options.scenes == 1 ? 1 : max(1, options.scenes / 5)
        let splits = [
            SyntheticSetWriter.trainSplit: Array(sceneNames.dropLast(validationCount)),
            SyntheticSetWriter.validationSplit: Array(sceneNames.suffix(validationCount)),
        ]
        // Validate the links before anything is renamed into place.
        _ = try NuScenesTables(dataroot: root, version: options.version, records: records)
        try NuScenesTablesWriter.write(records, splits: splits, to: (root as NSString).appendingPathComponent(options.version))
        return summary
    }

    private mutating func addStaticTables() {
        records.category = SynthClass.allCases.map {
            NuScenesCategory(token: token("category", $0.rawValue), name: $0.categoryName, description: "synthetic \($0)")
        }
        records.attribute = nuScenesAttributeNames.enumerated().map {
            NuScenesAttribute(token: token("attribute", $0.offset), name: $0.element, description: $0.element)
        }
        records.visibility = nuScenesVisibilityLevels.map {
            NuScenesVisibility(token: $0.token, level: $0.level, description: $0.description)
        }
        for (i, camera) in rig.cameras.enumerated() {
            records.sensor.append(NuScenesSensor(token: token("sensor", i), channel: camera.channel, modality: "camera"))
            records.calibratedSensor.append(NuScenesCalibratedSensor(
                token: token("calibrated_sensor", i), sensor_token: token("sensor", i), translation: camera.translation,
                rotation: camera.rotation, camera_intrinsic: camera.intrinsic))
        }
        let lidar = rig.cameras.count
        records.sensor.append(NuScenesSensor(token: token("sensor", lidar), channel: "LIDAR_TOP", modality: "lidar"))
        records.calibratedSensor.append(NuScenesCalibratedSensor(
            token: token("calibrated_sensor", lidar), sensor_token: token("sensor", lidar),
            translation: rig.lidar.translation, rotation: rig.lidar.rotation, camera_intrinsic: []))
    }

    /// Adds one scene's log, samples, sensor data and annotations; returns the scene name.
    private mutating func addScene(_ scene: Int, summary: inout SyntheticSetWriter.Summary) throws -> String {
        let name = String(format: "scene-%04d", scene + 1)
        let samples = options.samplesPerScene
        let scenario = SynthScenario(seed: options.seed, sceneIndex: scene, samples: samples,
                                     sampleInterval: SyntheticSetWriter.sampleInterval,
                                     extraObjects: options.extraObjectsPerScene)
        records.log.append(NuScenesLog(token: token("log", scene), logfile: "synth-\(options.seed)-\(name)",
                                       vehicle: "synth", date_captured: "2018-08-01", location: "synth-city"))
        records.scene.append(NuScenesScene(
            token: token("scene", scene), log_token: token("log", scene), nbr_samples: samples,
            first_sample_token: token("sample", scene, 0), last_sample_token: token("sample", scene, samples - 1),
            name: name, description: "synthetic, seed \(options.seed)"))
        let lidarToEgo = try rig.lidarToEgo()
        let cameraToEgo = try rig.cameras.map { try rig.cameraToEgo($0) }
        let objectCount = scenario.objects.count
        var lidarPoints = [[Int]](repeating: [], count: objectCount)   // per object, per sample
        var visibility = [[String]](repeating: [], count: objectCount)
        var noiseRNG = SplitMix64(seed: SynthShading.hash(options.seed, UInt64(scene), 0x11647))
        let channelCount = rig.cameras.count + 1
        for k in 0..<samples {
            progress("synth: \(name) sample \(k + 1)/\(samples)")
            let time = scenario.startTime + Int64(k) * SyntheticSetWriter.sampleInterval
            let sampleToken = token("sample", scene, k)
            records.sample.append(NuScenesSample(
                token: sampleToken, timestamp: time, prev: k > 0 ? token("sample", scene, k - 1) : "",
                next: k + 1 < samples ? token("sample", scene, k + 1) : "", scene_token: token("scene", scene)))
            let gain = 0.85 + 0.3 * Double(noiseRNG.next() >> 11) * 0x1p-53
            let world = scenario.world(at: time, gain: gain, noise: 5, noiseSeed: noiseRNG.next())

            // LIDAR_TOP key frame.
            let lidarPose = scenario.egoPose(at: time)
            let egoToGlobal = RigidTransform(rotation: lidarPose.rotation.matrix, translation: lidarPose.translation)
            let scan = options.lidar.scan(world, lidarToGlobal: egoToGlobal.composed(after: lidarToEgo))
            let lidarFile = "samples/LIDAR_TOP/synth-\(options.seed)-\(name)__LIDAR_TOP__\(time).pcd.bin"
            try write(scan.points.withUnsafeBytes { Array($0) }, to: lidarFile)
            addSampleData(scene: scene, sample: k, channel: rig.cameras.count, channels: channelCount, time: time,
                          pose: lidarPose, file: lidarFile, size: (0, 0), format: "pcd")
            for i in 0..<objectCount { lidarPoints[i].append(scan.pointsPerBox[i]) }

            // Cameras, each at its own timestamp and ego pose.
            var visible = [Int](repeating: 0, count: objectCount), covered = visible
            for (c, camera) in rig.cameras.enumerated() {
                let cameraTime = time + Int64(2 * c - (rig.cameras.count - 1)) * 4_000
                let pose = scenario.egoPose(at: cameraTime)
                let cameraToGlobal = RigidTransform(rotation: pose.rotation.matrix, translation: pose.translation)
                    .composed(after: cameraToEgo[c])
                let renderer = SynthRenderer(width: rig.image_width, height: rig.image_height,
                                             intrinsic: Matrix3(camera.intrinsic.flatMap { $0 }),
                                             cameraToGlobal: cameraToGlobal, threads: options.threads)
                let view = renderer.render(world, cameraSalt: UInt64(c))
                for i in 0..<objectCount { visible[i] += view.visiblePixels[i]; covered[i] += view.coveredPixels[i] }
                let file = "samples/\(camera.channel)/synth-\(options.seed)-\(name)__\(camera.channel)__\(cameraTime).jpg"
                try write(try JPEGCodec.encode(view.image, quality: options.jpegQuality, path: file), to: file)
                addSampleData(scene: scene, sample: k, channel: c, channels: channelCount, time: cameraTime, pose: pose,
                              file: file, size: (rig.image_width, rig.image_height), format: "jpg")
                summary.images += 1
            }
            for i in 0..<objectCount { visibility[i].append(Self.visibilityToken(visible: visible[i], covered: covered[i])) }
            summary.samples += 1
        }
        addAnnotations(scene: scene, scenario: scenario, lidarPoints: lidarPoints, visibility: visibility)
        summary.annotations += objectCount * samples
        return name
    }

    private mutating func addSampleData(scene: Int, sample k: Int, channel c: Int, channels: Int, time: Int64,
                                        pose: (rotation: Quaternion, translation: SIMD3<Double>), file: String,
                                        size: (Int, Int), format: String) {
        let index = k * channels + c
        records.egoPose.append(NuScenesEgoPose(
            token: token("ego_pose", scene, index), timestamp: time, rotation: pose.rotation.nuScenes,
            translation: [pose.translation.x, pose.translation.y, pose.translation.z]))
        records.sampleData.append(NuScenesSampleData(
            token: token("sample_data", scene, index), sample_token: token("sample", scene, k),
            ego_pose_token: token("ego_pose", scene, index), calibrated_sensor_token: token("calibrated_sensor", c),
            timestamp: time, fileformat: format, is_key_frame: true, height: size.1, width: size.0, filename: file,
            prev: k > 0 ? token("sample_data", scene, index - channels) : "",
            next: k + 1 < options.samplesPerScene ? token("sample_data", scene, index + channels) : ""))
    }

    private mutating func addAnnotations(scene: Int, scenario: SynthScenario, lidarPoints: [[Int]], visibility: [[String]]) {
        let samples = options.samplesPerScene
        for (i, object) in scenario.objects.enumerated() {
            let instance = token("instance", scene, i)
            records.instance.append(NuScenesInstance(
                token: instance, category_token: token("category", object.cls.rawValue), nbr_annotations: samples,
                first_annotation_token: token("sample_annotation", scene, i, 0),
                last_annotation_token: token("sample_annotation", scene, i, samples - 1)))
            let speed = hypot(object.velocity.x, object.velocity.y)
            let attributes = object.cls.attributeName(speed: speed)
                .flatMap { name in nuScenesAttributeNames.firstIndex(of: name) }
                .map { [token("attribute", $0)] } ?? []
            for k in 0..<samples {
                let seconds = Double(Int64(k) * SyntheticSetWriter.sampleInterval) * 1e-6
                let center = object.start + object.velocity * seconds
                records.sampleAnnotation.append(NuScenesSampleAnnotation(
                    token: token("sample_annotation", scene, i, k), sample_token: token("sample", scene, k),
                    instance_token: instance, visibility_token: visibility[i][k], attribute_tokens: attributes,
                    translation: [center.x, center.y, center.z], size: [object.size.x, object.size.y, object.size.z],
                    rotation: Quaternion(yaw: object.yaw).nuScenes,
                    prev: k > 0 ? token("sample_annotation", scene, i, k - 1) : "",
                    next: k + 1 < samples ? token("sample_annotation", scene, i, k + 1) : "",
                    num_lidar_pts: lidarPoints[i][k], num_radar_pts: 0))
            }
        }
    }

    static func visibilityToken(visible: Int, covered: Int) -> String {
        guard covered > 0 else { return "1" }
        let fraction = Double(visible) / Double(covered)
        return fraction < 0.4 ? "1" : fraction < 0.6 ? "2" : fraction < 0.8 ? "3" : "4"
    }

    private func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw OnboardError.io(path: path, reason: "cannot create directory: \(error.localizedDescription)")
        }
    }

    private func write(_ bytes: [UInt8], to relative: String) throws {
        try AtomicFile(path: (root as NSString).appendingPathComponent(relative)).write(bytes: bytes)
    }
}
