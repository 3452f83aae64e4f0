import CKernels
import XCTest

/// The kernel lists (Sources/CKernels/*_kernels.h) and the one ISA cap that selects from them.
final class KernelListTests: XCTestCase {
    override func tearDown() { Kernel.removeCap() }

    func test_everyOpEndsWithItsScalarKernel() {
        let ops = Dictionary(grouping: Kernel.all, by: \.op)
        XCTAssertEqual(Set(ops.keys).isSuperset(of: ["f32_gemm", "f32_gelu_erf", "q8_gemm", "q8_layernorm_rows", "q8_quantize_u8"]), true)
        for (op, kernels) in ops {
            let last = kernels[kernels.count - 1]
            XCTAssertEqual(last.isa, "scalar", op)
            XCTAssertEqual(last.isaFlags, 0, op)
            for kernel in kernels {
                XCTAssertTrue(kernel.name.hasPrefix("onboard_\(op)") && kernel.name.hasSuffix("__\(kernel.isa)"), kernel.name)
            }
        }
    }

    /// A GEMM runs the first kernel of a panel width the cap allows: capping at a kernel's own flags
    /// must select it, or a test that does so would check another kernel twice.
    func test_eachGemmKernelIsTheFirstItsOwnFlagsSelect() {
        for op in ["f32_gemm", "q8_gemm", "q8_gemm_b7", "q8_product"] {
            let kernels = Kernel.all.filter { $0.op == op }
            for kernel in kernels {
                let selected = kernels.first { $0.nr == kernel.nr && kernel.isaFlags & $0.isaFlags == $0.isaFlags }
                XCTAssertEqual(selected?.name, kernel.name)
            }
        }
    }

    func test_theCapLimitsWhatTheCPUOffers() {
        let cpu = onboard_cpu_isa_flags()
        XCTAssertEqual(onboard_isa_set_cap(ONBOARD_ISA_AVX2.rawValue), ONBOARD_ISA_NO_CAP)
        XCTAssertEqual(onboard_isa_usable(), cpu & ONBOARD_ISA_AVX2.rawValue)
        XCTAssertEqual(onboard_isa_set_cap(0), ONBOARD_ISA_AVX2.rawValue)
        XCTAssertEqual(onboard_isa_usable(), 0)
        Kernel.removeCap()
        XCTAssertEqual(onboard_isa_usable(), cpu)
    }

    /// The names ONBOARD_ISA accepts, slowest first; each level's cap holds the features it needs.
    func test_levelsAreThePathsONBOARD_ISANames() {
        let levels = (0..<onboard_isa_level_count()).map { onboard_isa_level_at($0) }
        XCTAssertEqual(levels.map { String(cString: $0.name) }, ["scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot", "i8mm"])
        for level in levels { XCTAssertEqual(level.cap & level.needs, level.needs, String(cString: level.name)) }
        XCTAssertEqual(levels[0].cap, 0)
    }
}
