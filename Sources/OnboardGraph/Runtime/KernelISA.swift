import CKernels
import Foundation
import OnboardCore

/// The instruction-set path of every kernel family (FP32 GEMM and math, INT8 GEMM, row kernels,
/// codecs): the best this CPU has, unless `ONBOARD_ISA` caps them all at a lower one
/// (scalar | avx2 | avxvnni | avx512vnni | neon | neondot | i8mm, the levels of CKernels' isa.h) for testing.
/// Both executors apply it before they pack weights; this is the one place that sets the cap.
/// The integer kernels give the same codes on every path; the FP32 ones round per path (fused
/// multiply-adds), within the FP32 kernel tests' tolerances.
public enum KernelISA {
    /// The names `ONBOARD_ISA` accepts, each with the CPU features (`onboard_isa_flags`) it lets
    /// kernels use.
    public static let names: [String: UInt32] = Dictionary(uniqueKeysWithValues: levels.map { ($0.name, $0.cap) })

    /// Applies `ONBOARD_ISA` from the environment; an unknown or unsupported value is an error.
    public static func applyEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let requested = environment["ONBOARD_ISA"], !requested.isEmpty else {
            reset()
            return
        }
        guard let level = levels.first(where: { $0.name == requested.lowercased() }) else {
            throw OnboardError.invalidArgument("ONBOARD_ISA=\(requested): not one of \(names.keys.sorted().joined(separator: ", "))")
        }
        guard level.runsHere else {
            throw OnboardError.invalidArgument("ONBOARD_ISA=\(requested): this CPU does not support it (it has: \(available.joined(separator: ", ")))")
        }
        onboard_isa_set_cap(level.cap)
    }

    /// Lifts the cap: every family runs the best kernels this CPU has.
    public static func reset() {
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP)
    }

    /// Paths this CPU can run.
    public static var available: [String] {
        levels.filter(\.runsHere).map(\.name).sorted()
    }

    /// The path in use: the fastest level whose features the CPU has and the cap allows.
    public static var active: String {
        let usable = onboard_isa_usable()
        return levels.last { usable & $0.needs == $0.needs }?.name ?? "scalar"
    }

    private struct Level {
        let name: String, needs: UInt32, cap: UInt32
        var runsHere: Bool { onboard_cpu_isa_flags() & needs == needs }
    }

    private static let levels: [Level] = (0..<onboard_isa_level_count()).map { index in
        let level = onboard_isa_level_at(index)
        return Level(name: String(cString: level.name), needs: level.needs, cap: level.cap)
    }
}
