import CKernels
import Foundation
import OnboardCore

/// The int8 kernel path: the best this CPU has, unless `ONBOARD_ISA` forces a lower one
/// (scalar | avx2 | avxvnni | avx512vnni | neondot) for testing.
public enum KernelISA {
    public static let names: [String: UInt32] = [
        "scalar": 0, "avx2": ONBOARD_ISA_AVX2.rawValue, "avxvnni": ONBOARD_ISA_AVXVNNI.rawValue,
        "avx512vnni": ONBOARD_ISA_AVX512VNNI.rawValue, "neondot": ONBOARD_ISA_NEON_DOT.rawValue,
    ]

    /// Applies `ONBOARD_ISA` from the environment; an unknown or unsupported value is an error.
    public static func applyEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let requested = environment["ONBOARD_ISA"], !requested.isEmpty else {
            onboard_q8_reset_isa()
            return
        }
        guard let isa = names[requested.lowercased()] else {
            throw OnboardError.invalidArgument("ONBOARD_ISA=\(requested): not one of \(names.keys.sorted().joined(separator: ", "))")
        }
        guard onboard_q8_force_isa(isa) == 0 else {
            throw OnboardError.invalidArgument("ONBOARD_ISA=\(requested): this CPU does not support it (it has: \(available.joined(separator: ", ")))")
        }
    }

    /// Paths this CPU can run.
    public static var available: [String] {
        let flags = onboard_cpu_isa_flags()
        return names.filter { $0.value == 0 || flags & $0.value != 0 }.keys.sorted()
    }

    /// The path in use.
    public static var active: String {
        let isa = onboard_q8_active_isa()
        return names.first { $0.value == isa }?.key ?? "scalar"
    }
}
