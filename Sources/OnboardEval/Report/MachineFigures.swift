/// One machine of a sharded validation (`onboard merge`): where its shard ran and what it measured.
public struct MachineFigures: Codable, Sendable, Equatable {
    public var shard: String
    public var host: String
    public var cpu: String
    public var isa: String
    public var threads: Int
    public var cores: Int
    public var samples: Int
    public var wallSeconds: Double
    /// Median wall time per frame on this machine.
    public var latencyMs: ValidationReport.PerPrecision<Double>
    public var peakMemoryBytes: ValidationReport.PerPrecision<Int>

    enum CodingKeys: String, CodingKey {
        case shard, host, cpu, isa, threads, cores, samples, wallSeconds = "wall_seconds", latencyMs = "latency_ms"
        case peakMemoryBytes = "peak_memory_bytes"
    }

    public init(shard: String, host: String, cpu: String, isa: String, threads: Int, cores: Int, samples: Int, wallSeconds: Double,
                latencyMs: ValidationReport.PerPrecision<Double>, peakMemoryBytes: ValidationReport.PerPrecision<Int>) {
        (self.shard, self.host, self.cpu, self.isa, self.threads, self.cores) = (shard, host, cpu, isa, threads, cores)
        (self.samples, self.wallSeconds, self.latencyMs, self.peakMemoryBytes) = (samples, wallSeconds, latencyMs, peakMemoryBytes)
    }
}

extension ValidationReport.PerPrecision: Equatable where Value: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.fp32 == b.fp32 && a.int8 == b.int8 }
}
