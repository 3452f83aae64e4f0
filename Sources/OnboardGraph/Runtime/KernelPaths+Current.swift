import CKernels
import OnboardCore

extension KernelPaths {
    /// The paths of this process now (call after the executors applied `ONBOARD_ISA`).
    public static var current: KernelPaths {
        let usable = onboard_isa_usable()
        var firstByOp: [String: onboard_kernel] = [:]
        var familyOrder: [String] = []
        for index in 0..<onboard_kernel_count() {
            let kernel = onboard_kernel_at(index)
            let family = String(cString: kernel.family)
            if !familyOrder.contains(family) { familyOrder.append(family) }
            let key = family + "/" + String(cString: kernel.op)
            if firstByOp[key] == nil && usable & kernel.isa_flags == kernel.isa_flags { firstByOp[key] = kernel }
        }
        var families: [String: String] = [:]
        for family in familyOrder {
            // The kernels' flags order them from slowest to fastest path.
            let chosen = firstByOp.filter { $0.key.hasPrefix(family + "/") }.values.sorted { $0.isa_flags > $1.isa_flags }
            var isas: [String] = []
            for kernel in chosen where !isas.contains(String(cString: kernel.isa)) { isas.append(String(cString: kernel.isa)) }
            families[family] = isas.joined(separator: "+")
        }
        let dot = UInt32(ONBOARD_ISA_AVXVNNI.rawValue | ONBOARD_ISA_AVX512VNNI.rawValue | ONBOARD_ISA_NEON_DOT.rawValue)
        return KernelPaths(active: KernelISA.active, families: families, int8DotProduct: usable & dot != 0)
    }
}
