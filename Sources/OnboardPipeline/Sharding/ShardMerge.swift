import Foundation
import OnboardCore

/// `onboard merge`: the parts of a sharded run joined into exactly what the run on one machine
/// writes: the results file (detect), the quantized bundle (quantize) or the report directory
/// (validate), with latency and memory per machine.
public enum ShardMerge {
    public struct Summary: Sendable {
        public var kind: PartManifest.Kind
        /// What to tell the user, a line each.
        public var lines: [String]
    }

    /// Where the inputs a merge reads again are on this machine, when not where the parts recorded them.
    public struct Inputs: Sendable {
        /// The evaluation set's dataroot (validate parts score against its tables).
        public var data: String?
        /// The float bundle (quantize parts plan and quantize it).
        public var model: String?

        public init(data: String? = nil, model: String? = nil) { (self.data, self.model) = (data, model) }
    }

    /// Merges the part directories `parts` (each shard of one run once, in any order) into `out`.
    /// `force` replaces a directory output Onboard did not write.
    public static func run(parts paths: [String], out: String, force: Bool = false, threads: Int = Parallel.coreCount,
                           inputs: Inputs = Inputs(), log: ProgressLog = .standardError) throws -> Summary {
        let parts = try PartSet(paths: paths)
        log.line("merge: \(parts.parts.count) \(parts.kind.rawValue) parts of \(parts.identity.sampleCount) samples")
        switch parts.kind {
        case .detect: return try DetectionShard.merge(parts, out: out)
        case .validate: return try ValidationShard.merge(parts, out: out, force: force, data: inputs.data, log: log)
        case .quantize: return try CalibrationShard.merge(parts, out: out, force: force, threads: threads, model: inputs.model, log: log)
        }
    }

    /// "  shard I/N: host (cpu, isa, threads): N samples in S s; extra".
    static func machineLine(_ part: PartSet.Part, extra: String) -> String {
        let m = part.manifest
        return "  shard \(m.shard): \(m.machine.text): \(m.samples.count) samples in "
            + String(format: "%.1f s", m.wallSeconds) + (extra.isEmpty ? "" : "; " + extra)
    }
}
