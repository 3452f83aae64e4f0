import Foundation
import OnboardCore

/// Paths of committed fixtures and scratch files for tests.
public enum TestPaths {
    /// The repository root (derived from this file's location).
    public static let root: String = {
        let file = #filePath as NSString  // Tests/OnboardTestSupport/TestSupport.swift
        return ((file.deletingLastPathComponent as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
    }()

    public static func fixture(_ relative: String) -> String {
        (root as NSString).appendingPathComponent("Tests/Fixtures/\(relative)")
    }

    /// The real all-MiniLM-L6-v2 directory `tools/fetch_minilm.sh` unpacks (tools/test.sh runs it):
    /// `$ONBOARD_MINILM_DIR`, else ~/.cache/onboard/all-MiniLM-L6-v2. A test that needs it fails
    /// (never skips) when it is missing.
    public static let miniLM: String = {
        if let path = ProcessInfo.processInfo.environment["ONBOARD_MINILM_DIR"], !path.isEmpty { return path }
        let cache = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache")
        return (cache as NSString).appendingPathComponent("onboard/all-MiniLM-L6-v2")
    }()

    /// `miniLM`, or a failure that says how to fetch it.
    public static func requireMiniLM() throws -> String {
        guard FileManager.default.fileExists(atPath: (miniLM as NSString).appendingPathComponent("model.safetensors")) else {
            throw OnboardError.io(path: miniLM, reason: "the real all-MiniLM-L6-v2 is missing; run tools/fetch_minilm.sh")
        }
        return miniLM
    }

    /// A fresh empty directory in this test process's own temporary directory, which is removed
    /// when the process exits (so fixtures shared between tests need no cleanup of their own).
    public static func temporaryDirectory(_ label: String = "onboard-test") -> String {
        let path = (temporaries as NSString).appendingPathComponent("\(label)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static let temporaries: String = {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("onboard-tests-\(getpid())-\(UUID().uuidString)")
        atexit { try? FileManager.default.removeItem(atPath: TestPaths.temporaries) }
        return root
    }()
}

/// Seeded random tensors.
public struct TestRandom {
    public var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func gaussian(_ shape: [Int], scale: Float = 1) -> Tensor {
        let tensor = Tensor(zeros: shape)
        tensor.withMutableFloats { values in
            for i in values.indices { values[i] = generator.nextGaussian() * scale }
        }
        return tensor
    }

    public mutating func floats(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in generator.nextGaussian() * scale }
    }

    public mutating func int(in range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &generator)
    }
}

/// Largest absolute difference and largest magnitude of the reference.
public func maxErrors(_ actual: [Float], _ expected: [Float]) -> (error: Float, magnitude: Float) {
    precondition(actual.count == expected.count, "compared arrays differ in length")
    var error: Float = 0, magnitude: Float = 0
    for (a, e) in zip(actual, expected) {
        error = max(error, abs(a - e))
        magnitude = max(magnitude, abs(e))
    }
    return (error, magnitude)
}

/// A bundle copied from `source` into `directory` with its config edited and tensors changed
/// (for tests of how bad bundles are reported).
public func copyBundle(from source: String, to directory: String,
                       config edit: (inout [String: Any]) -> Void,
                       tensors change: (inout [(name: String, tensor: Tensor)]) -> Void) throws -> String {
    guard let data = FileManager.default.contents(atPath: "\(source)/config.json"),
          var config = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw OnboardError.io(path: "\(source)/config.json", reason: "not a JSON object")
    }
    edit(&config)
    try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: "\(directory)/config.json"))
    let file = try SafeTensorsFile(path: "\(source)/model.safetensors")
    var tensors = file.entries.map { (name: $0.name, tensor: file.tensor($0)) }
    change(&tensors)
    try SafeTensorsWriter.write(tensors, to: "\(directory)/model.safetensors")
    return directory
}

/// The petr/vit_cpfpn_images fixture (ViT backbone + CPFPN, random weights) as a camera detector
/// for the demo's 6-camera rig, with PETR's preprocessing settings; `edit` changes its config.
public func makeSixCameraPETRBundle(_ directory: String, edit: (inout [String: Any]) -> Void = { _ in }) throws {
    let fixture = TestPaths.fixture("petr/vit_cpfpn_images")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: "\(fixture)/model.safetensors", toPath: "\(directory)/model.safetensors")
    let data = try Data(contentsOf: URL(fileURLWithPath: "\(fixture)/config.json"))
    guard var config = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw OnboardError.format(path: "\(fixture)/config.json", item: nil, reason: "not a JSON object")
    }
    config["num_cameras"] = 6
    config["preprocess"] = ["mean": [103.530, 116.280, 123.675], "std": [57.375, 57.120, 58.395], "to_rgb": false]
    edit(&config)
    try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: "\(directory)/config.json"))
}
