import ArgumentParser
import Foundation
import OnboardKit

struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-gemm", abstract: "Time the GEMM kernels alone (weights packed once), one JSON line per shape with --json.")

    @Option(parsing: .upToNextOption, help: "Shapes MxKxN (default 1024x1024x1024).") var shape: [String] = ["1024x1024x1024"]
    @Option(help: "fp32 or int8 (u8 x s8 -> s32).") var precision: String = "int8"
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "Timed iterations.") var iterations: Int = 20
    @Option(help: "INT8 weight codes: 8 bits (-128...127), 7 (-64...64, the narrow-range kernels) or 4 (-8...7, two a byte: the q4_gemm kernels).")
    var weightBits: Int = 8
    @Flag(help: "One JSON object per shape.") var json = false

    mutating func validate() throws {
        guard KernelBenchmark.Precision(rawValue: precision) != nil else { throw ValidationError("--precision must be fp32 or int8") }
        guard [4, 7, 8].contains(weightBits) else { throw ValidationError("--weight-bits must be 4, 7 or 8") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be >= 1") }
        for s in shape where Self.parse(s) == nil { throw ValidationError("--shape '\(s)' is not MxKxN with positive sizes") }
        threads = try ThreadOption.clamped(threads)
    }

    static func parse(_ text: String) -> (Int, Int, Int)? {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 && $0 <= 1 << 14 }) else { return nil }
        return (parts[0], parts[1], parts[2])
    }

    func run() throws {
        try KernelISA.applyEnvironment()
        for text in shape {
            guard let (m, k, n) = Self.parse(text), let kind = KernelBenchmark.Precision(rawValue: precision) else { continue }
            let timing = KernelBenchmark.gemm(m: m, k: k, n: n, precision: kind, threads: threads, iterations: iterations,
                                                  weightBits: weightBits)
            let gops = 2 * Double(m) * Double(k) * Double(n) / timing.median / 1e9
            if json {
                print("{\"m\":\(m),\"k\":\(k),\"n\":\(n),\"precision\":\"\(precision)\",\"threads\":\(threads),\"weight_bits\":\(weightBits),\"isa\":\"\(KernelISA.active)\",\"median_ms\":\(timing.median * 1000),\"gops\":\(gops)}")
            } else {
                print(String(format: "%@ %@ %d threads (%@): median %.3f ms, %.1f GOP/s", text, precision, threads, KernelISA.active, timing.median * 1000, gops))
            }
        }
    }
}
