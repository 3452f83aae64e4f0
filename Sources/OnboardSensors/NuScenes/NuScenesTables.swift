import Foundation
import OnboardCore

/// The 13 nuScenes tables of one dataroot + version, validated and indexed.
///
/// API (all tokens are the tables' own strings):
/// - `try NuScenesTables(dataroot: "/data/nuscenes", version: "v1.0-mini")` loads
///   `dataroot/version/<table>.json` for all 13 tables (a missing table is an error, as in the devkit),
///   checks every foreign token (an error names the file, the record's token and the dangling token),
///   and builds the indexes below. `NuScenesTables(dataroot:version:records:)` does the same from memory.
///   With `annotations: false` it leaves `instance` and `sample_annotation` unread and empty (the largest
///   tables of a real set, and what only scoring needs): samples then carry no ground-truth boxes.
/// - Tables: `category`, `attribute`, `visibility`, `instance`, `sensor`, `calibratedSensor`, `egoPose`,
///   `log`, `scene`, `sample`, `sampleData`, `sampleAnnotation`, `map`; each is a `NuScenesTable` with
///   `.records` (file order) and `[token]` lookup.
/// - `annotations(ofSample:)`: the sample's `sample_annotation` records (the devkit's `sample['anns']`).
/// - `keyFrame(ofSample:channel:)`: the key-frame `sample_data` of a channel (`sample['data'][channel]`);
///   `lidarEgoPose(ofSample:)` the ego pose of the sample's LIDAR_TOP key frame (what `load_gt`'s
///   `add_center_dist` uses); `channel(ofSampleData:)` the sensor channel.
/// - `categoryName(of:)`, `attributeNames(of:)` for an annotation (via instance -> category).
/// - `velocity(of:)`: the devkit's `box_velocity` (NaN when no neighbour or the gap is too long).
/// - `samplesInScene(_:)` in time order, `sceneNames`, `scenes(named:)`.
/// - `customSplits()` reads `dataroot/version/splits.json` (`{"split": [scene names]}`, nil when absent);
///   `sampleTokens(inSplit:)` gives the split's samples in scene and time order.
public struct NuScenesTables: Sendable {
    public let dataroot: String
    public let version: String
    public let category: NuScenesTable<NuScenesCategory>
    public let attribute: NuScenesTable<NuScenesAttribute>
    public let visibility: NuScenesTable<NuScenesVisibility>
    public let instance: NuScenesTable<NuScenesInstance>
    public let sensor: NuScenesTable<NuScenesSensor>
    public let calibratedSensor: NuScenesTable<NuScenesCalibratedSensor>
    public let egoPose: NuScenesTable<NuScenesEgoPose>
    public let log: NuScenesTable<NuScenesLog>
    public let scene: NuScenesTable<NuScenesScene>
    public let sample: NuScenesTable<NuScenesSample>
    public let sampleData: NuScenesTable<NuScenesSampleData>
    public let sampleAnnotation: NuScenesTable<NuScenesSampleAnnotation>
    public let map: NuScenesTable<NuScenesMap>

    private let annotationIndicesBySample: [String: [Int]]
    private let keyFramesBySample: [String: [String: Int]]

    /// Loads and validates `dataroot/version/*.json`; without `annotations`, `instance.json` and
    /// `sample_annotation.json` must exist but are not read.
    public init(dataroot: String, version: String, annotations: Bool = true) throws {
        let directory = (dataroot as NSString).appendingPathComponent(version)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OnboardError.io(path: directory, reason: "no nuScenes version directory")
        }
        func load<R: NuScenesRecord>(_: R.Type, read: Bool = true) throws -> [R] {
            let path = (directory as NSString).appendingPathComponent("\(R.tableName).json")
            guard FileManager.default.fileExists(atPath: path) else {
                throw OnboardError.io(path: path, reason: "missing nuScenes table \(R.tableName) (all 13 are required)")
            }
            guard read else { return [] }
            let data = try InputFile.read(path, what: "nuScenes table")
            return try JSONInput.decode([R].self, from: data, path: path)
        }
        try self.init(dataroot: dataroot, version: version, records: NuScenesRecords(
            category: load(NuScenesCategory.self), attribute: load(NuScenesAttribute.self),
            visibility: load(NuScenesVisibility.self), instance: load(NuScenesInstance.self, read: annotations),
            sensor: load(NuScenesSensor.self), calibratedSensor: load(NuScenesCalibratedSensor.self),
            egoPose: load(NuScenesEgoPose.self), log: load(NuScenesLog.self), scene: load(NuScenesScene.self),
            sample: load(NuScenesSample.self), sampleData: load(NuScenesSampleData.self),
            sampleAnnotation: load(NuScenesSampleAnnotation.self, read: annotations), map: load(NuScenesMap.self)))
    }

    /// Validates and indexes records held in memory; errors name `dataroot/version/<table>.json`.
    public init(dataroot: String, version: String, records: NuScenesRecords) throws {
        self.dataroot = dataroot
        self.version = version
        let directory = (dataroot as NSString).appendingPathComponent(version)
        func path<R: NuScenesRecord>(_: R.Type) -> String {
            (directory as NSString).appendingPathComponent("\(R.tableName).json")
        }
        category = try NuScenesTable(records.category, path: path(NuScenesCategory.self))
        attribute = try NuScenesTable(records.attribute, path: path(NuScenesAttribute.self))
        visibility = try NuScenesTable(records.visibility, path: path(NuScenesVisibility.self))
        instance = try NuScenesTable(records.instance, path: path(NuScenesInstance.self))
        sensor = try NuScenesTable(records.sensor, path: path(NuScenesSensor.self))
        calibratedSensor = try NuScenesTable(records.calibratedSensor, path: path(NuScenesCalibratedSensor.self))
        egoPose = try NuScenesTable(records.egoPose, path: path(NuScenesEgoPose.self))
        log = try NuScenesTable(records.log, path: path(NuScenesLog.self))
        scene = try NuScenesTable(records.scene, path: path(NuScenesScene.self))
        sample = try NuScenesTable(records.sample, path: path(NuScenesSample.self))
        sampleData = try NuScenesTable(records.sampleData, path: path(NuScenesSampleData.self))
        sampleAnnotation = try NuScenesTable(records.sampleAnnotation, path: path(NuScenesSampleAnnotation.self))
        map = try NuScenesTable(records.map, path: path(NuScenesMap.self))

        var annotations: [String: [Int]] = [:]
        for (i, annotation) in sampleAnnotation.records.enumerated() {
            annotations[annotation.sample_token, default: []].append(i)
        }
        annotationIndicesBySample = annotations
        var keyFrames: [String: [String: Int]] = [:]
        for (i, data) in sampleData.records.enumerated() where data.is_key_frame {
            guard let calibration = calibratedSensor[data.calibrated_sensor_token],
                  let channel = sensor[calibration.sensor_token]?.channel else { continue }
            keyFrames[data.sample_token, default: [:]][channel] = i
        }
        keyFramesBySample = keyFrames
        try NuScenesTableValidation.validate(self, directory: directory)
    }

    public var tablesDirectory: String { (dataroot as NSString).appendingPathComponent(version) }

    public var allRecords: NuScenesRecords {
        NuScenesRecords(category: category.records, attribute: attribute.records, visibility: visibility.records,
                        instance: instance.records, sensor: sensor.records, calibratedSensor: calibratedSensor.records,
                        egoPose: egoPose.records, log: log.records, scene: scene.records, sample: sample.records,
                        sampleData: sampleData.records, sampleAnnotation: sampleAnnotation.records, map: map.records)
    }

    // MARK: Queries

    public func annotations(ofSample token: String) -> [NuScenesSampleAnnotation] {
        (annotationIndicesBySample[token] ?? []).map { sampleAnnotation.records[$0] }
    }

    public func keyFrame(ofSample token: String, channel: String) -> NuScenesSampleData? {
        keyFramesBySample[token]?[channel].map { sampleData.records[$0] }
    }

    public func channel(ofSampleData data: NuScenesSampleData) -> String? {
        calibratedSensor[data.calibrated_sensor_token].flatMap { sensor[$0.sensor_token]?.channel }
    }

    /// The ego pose of the sample's LIDAR_TOP key frame; throws naming the sample when it has none.
    public func lidarEgoPose(ofSample token: String) throws -> NuScenesEgoPose {
        guard let lidar = keyFrame(ofSample: token, channel: "LIDAR_TOP"), let pose = egoPose[lidar.ego_pose_token] else {
            throw OnboardError.format(path: tablesDirectory, item: "sample \(token)",
                                      reason: "no LIDAR_TOP key frame (the devkit needs one per sample)")
        }
        return pose
    }

    public func categoryName(of annotation: NuScenesSampleAnnotation) -> String? {
        instance[annotation.instance_token].flatMap { category[$0.category_token]?.name }
    }

    public func attributeNames(of annotation: NuScenesSampleAnnotation) -> [String] {
        annotation.attribute_tokens.compactMap { attribute[$0]?.name }
    }

    /// The devkit's `box_velocity`: centre difference of the neighbouring annotations over their
    /// sample time (max gap 1.5 s, doubled when both exist); NaN when there is none or the gap is longer.
    public func velocity(of annotation: NuScenesSampleAnnotation, maxTimeDifference: Double = 1.5) -> SIMD3<Double> {
        let nan = SIMD3<Double>(repeating: .nan)
        let previous = annotation.prev.isEmpty ? nil : sampleAnnotation[annotation.prev]
        let next = annotation.next.isEmpty ? nil : sampleAnnotation[annotation.next]
        guard previous != nil || next != nil else { return nan }
        let first = previous ?? annotation, last = next ?? annotation
        guard first.translation.count == 3, last.translation.count == 3,
              let t0 = sample[first.sample_token]?.timestamp, let t1 = sample[last.sample_token]?.timestamp else { return nan }
        let dt = 1e-6 * Double(t1) - 1e-6 * Double(t0)
        let limit = previous != nil && next != nil ? 2 * maxTimeDifference : maxTimeDifference
        guard dt <= limit else { return nan }
        return SIMD3(last.translation[0] - first.translation[0], last.translation[1] - first.translation[1],
                     last.translation[2] - first.translation[2]) / dt
    }

    public var sceneNames: [String] { scene.records.map(\.name) }

    public func scenes(named name: String) -> [NuScenesScene] { scene.records.filter { $0.name == name } }

    /// The scene's samples from `first_sample_token` along `next`.
    /// The samples a run over `tokens` takes, in its order: `tokens` as given, else every
    /// key-frame sample scene by scene (scene.json's order), each scene in time order.
    public func sampleOrder(_ tokens: [String]?) -> [String] {
        tokens ?? scene.records.flatMap { samplesInScene($0.token).map(\.token) }
    }

    public func samplesInScene(_ sceneToken: String) -> [NuScenesSample] {
        guard let scene = scene[sceneToken] else { return [] }
        var out: [NuScenesSample] = []
        var token = scene.first_sample_token
        while !token.isEmpty, let record = sample[token], out.count < sample.count {
            out.append(record)
            token = record.next
        }
        return out
    }

    /// `dataroot/version/splits.json` as {split name: [scene names]}, or nil when the file is absent.
    public func customSplits() throws -> [String: [String]]? {
        let path = (tablesDirectory as NSString).appendingPathComponent("splits.json")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try InputFile.read(path, what: "splits file")
        return try JSONInput.decode([String: [String]].self, from: data, path: path)
    }

    /// Sample tokens of a custom split (scene order of the split, then time order); throws on an
    /// unknown split or a scene name that is not in scene.json.
    public func sampleTokens(inSplit split: String) throws -> [String] {
        let path = (tablesDirectory as NSString).appendingPathComponent("splits.json")
        guard let splits = try customSplits() else { throw OnboardError.io(path: path, reason: "no splits.json") }
        guard let names = splits[split] else {
            throw OnboardError.format(path: path, item: split, reason: "no such split (have \(splits.keys.sorted().joined(separator: ", ")))")
        }
        var tokens: [String] = []
        for name in names {
            let matches = scenes(named: name)
            guard !matches.isEmpty else {
                throw OnboardError.format(path: path, item: "\(split)/\(name)", reason: "scene is not in scene.json")
            }
            for scene in matches { tokens += samplesInScene(scene.token).map(\.token) }
        }
        return tokens
    }
}

/// The plain record arrays of all 13 tables.
public struct NuScenesRecords: Sendable, Equatable {
    public var category: [NuScenesCategory]
    public var attribute: [NuScenesAttribute]
    public var visibility: [NuScenesVisibility]
    public var instance: [NuScenesInstance]
    public var sensor: [NuScenesSensor]
    public var calibratedSensor: [NuScenesCalibratedSensor]
    public var egoPose: [NuScenesEgoPose]
    public var log: [NuScenesLog]
    public var scene: [NuScenesScene]
    public var sample: [NuScenesSample]
    public var sampleData: [NuScenesSampleData]
    public var sampleAnnotation: [NuScenesSampleAnnotation]
    public var map: [NuScenesMap]

    public init(category: [NuScenesCategory] = [], attribute: [NuScenesAttribute] = [],
                visibility: [NuScenesVisibility] = [], instance: [NuScenesInstance] = [], sensor: [NuScenesSensor] = [],
                calibratedSensor: [NuScenesCalibratedSensor] = [], egoPose: [NuScenesEgoPose] = [],
                log: [NuScenesLog] = [], scene: [NuScenesScene] = [], sample: [NuScenesSample] = [],
                sampleData: [NuScenesSampleData] = [], sampleAnnotation: [NuScenesSampleAnnotation] = [],
                map: [NuScenesMap] = []) {
        self.category = category; self.attribute = attribute; self.visibility = visibility; self.instance = instance
        self.sensor = sensor; self.calibratedSensor = calibratedSensor; self.egoPose = egoPose; self.log = log
        self.scene = scene; self.sample = sample; self.sampleData = sampleData
        self.sampleAnnotation = sampleAnnotation; self.map = map
    }
}
