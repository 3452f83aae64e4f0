import CKernels
import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `bench` and `profile` say which kernel paths ran (per family where they differ) and, without an
/// int8 dot-product instruction, that INT8 mainly saves memory: in text and in JSON.
final class KernelPathsCommandTests: XCTestCase {
    let model = (TestPaths.root as NSString).appendingPathComponent("Configs/models/vit-demo")
    let families = ["f32_gemm", "f32_math", "f32_scan", "movement", "q4_gemm", "q8_codecs", "q8_gemm", "q8_rows"]

    func kernels(_ command: String, environment: [String: String] = [:]) throws -> [String: Any] {
        let runs = command == "bench" ? ["--iterations", "1", "--warmup", "0"] : ["--runs", "1", "--warmup", "0"]
        let result = try Onboard.run([command, "--model", model, "--threads", "1", "--json"] + runs, environment: environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try XCTUnwrap(object["kernels"] as? [String: Any], "\(command) --json has no kernels object")
    }

    func test_scalarCapRunsEveryFamilyScalarWithoutADotProduct() throws {
        for command in ["bench", "profile"] {
            let paths = try kernels(command, environment: ["ONBOARD_ISA": "scalar"])
            XCTAssertEqual(paths["active"] as? String, "scalar", command)
            XCTAssertEqual(paths["int8_dot_product"] as? Bool, false, command)
            let byFamily = try XCTUnwrap(paths["families"] as? [String: String])
            XCTAssertEqual(byFamily, Dictionary(uniqueKeysWithValues: families.map { ($0, "scalar") }), command)
        }
        let text = try Onboard.run(["bench", "--model", model, "--threads", "1", "--iterations", "1", "--warmup", "0"],
                                   environment: ["ONBOARD_ISA": "scalar"])
        XCTAssertTrue(text.stdout.contains("kernels      scalar (every kernel family); no int8 dot-product instruction "
                                           + "(no VNNI / no sdot): INT8 mainly saves memory here"), text.stdout)
    }

    func test_uncappedPathsAreThisCPUsBestAndSayWhetherItHasADotProduct() throws {
        let usable = onboard_cpu_isa_flags()
        let dot = usable & (ONBOARD_ISA_AVXVNNI.rawValue | ONBOARD_ISA_AVX512VNNI.rawValue | ONBOARD_ISA_NEON_DOT.rawValue) != 0
        // Uncapped even when the suite runs under ONBOARD_ISA (an empty value lifts the cap).
        let uncapped = ["ONBOARD_ISA": ""]
        let paths = try kernels("profile", environment: uncapped)
        XCTAssertEqual(paths["int8_dot_product"] as? Bool, dot)
        let byFamily = try XCTUnwrap(paths["families"] as? [String: String])
        XCTAssertEqual(byFamily.keys.sorted(), families)
        let text = try Onboard.run(["profile", "--model", model, "--threads", "1", "--runs", "1", "--warmup", "0"],
                                   environment: uncapped)
        let line = try XCTUnwrap(text.stdout.split(separator: "\n").first { $0.hasPrefix("kernels") }, text.stdout)
        XCTAssertTrue(line.contains(paths["active"] as? String ?? "?"), String(line))
        XCTAssertEqual(line.contains("INT8 mainly saves memory here"), !dot, String(line))
        if usable & ONBOARD_ISA_AVX2.rawValue != 0 {
            // The integer rows, codecs and the GEMM's microkernel have AVX2 paths.
            for family in ["q8_rows", "q8_codecs", "q8_gemm", "f32_gemm"] {
                XCTAssertTrue(byFamily[family]?.hasPrefix("avx") ?? false, "\(family): \(byFamily[family] ?? "none")")
            }
        }
    }
}
