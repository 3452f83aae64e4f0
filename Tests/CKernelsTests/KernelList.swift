import CKernels

/// One line of a family's kernel list (`onboard_kernel_at`): the tests run every kernel this CPU
/// has by capping the ISA at its flags, instead of naming paths by hand.
struct Kernel {
    let family: String, op: String, name: String, isa: String
    let isaFlags: UInt32
    let mr: Int, nr: Int

    /// Every kernel built for this architecture, in list order.
    static let all: [Kernel] = (0..<onboard_kernel_count()).map { index in
        let k = onboard_kernel_at(index)
        return Kernel(family: String(cString: k.family), op: String(cString: k.op), name: String(cString: k.name),
                      isa: String(cString: k.isa), isaFlags: k.isa_flags, mr: Int(k.mr), nr: Int(k.nr))
    }

    /// The kernels of `op` this CPU has, fastest first.
    static func runnable(_ op: String) -> [Kernel] {
        precondition(all.contains { $0.op == op }, "no kernel list has the op \(op)")
        return all.filter { $0.op == op && $0.runsHere }
    }

    var runsHere: Bool { onboard_cpu_isa_flags() & isaFlags == isaFlags }

    /// Caps the ISA at this kernel's flags: the op runs it, or (for arguments it leaves to the next
    /// one) a slower kernel of the list.
    func cap() { onboard_isa_set_cap(isaFlags) }

    static func removeCap() { onboard_isa_set_cap(ONBOARD_ISA_NO_CAP) }
}
