import OnboardSensors

/// The demo's held-out synthetic set: made once, reused when it is already there.
public enum DemoSet {
    public static let version = "v1.0-synth"
    public static let rig = "demo-6cam"

    public static func prepare(directory: String, seed: UInt64, scenes: Int, threads: Int, log: ProgressLog) throws -> String {
        var options = SyntheticSetOptions(scenes: scenes, samplesPerScene: 2, seed: seed, version: version)
        options.threads = threads
        try SyntheticSetCache.prepare(directory: directory, rig: rig, options: options, label: "demo", log: log)
        return directory
    }
}
