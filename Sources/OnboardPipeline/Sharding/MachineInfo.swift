import Foundation
import OnboardCore
import OnboardGraph

/// The machine a shard ran on, named in merged latency and memory figures.
public struct MachineInfo: Codable, Equatable, Sendable {
    public var host: String
    /// The CPU model as /proc/cpuinfo names it ("unknown" elsewhere).
    public var cpu: String
    /// The ISA level the kernels ran at (`ONBOARD_ISA` names).
    public var isa: String
    public var cores: Int
    /// Worker threads the run used.
    public var threads: Int

    public static func current(threads: Int) -> MachineInfo {
        MachineInfo(host: ProcessInfo.processInfo.hostName, cpu: cpuModel(), isa: KernelPaths.current.active,
                    cores: Parallel.coreCount, threads: threads)
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") || line.hasPrefix("Model") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// "host (cpu, isa, N threads)".
    public var text: String { "\(host) (\(cpu), \(isa), \(threads) of \(cores) cores)" }
}
