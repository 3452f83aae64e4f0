/// Which kernel paths ran, for `bench`, `profile` and `validate`: the ISA level, each kernel
/// family's paths (the ISA of the first kernel each of its ops may run, fastest first) and whether
/// the CPU offers the INT8 GEMM an int8 dot-product instruction. OnboardGraph's `KernelPaths.current`
/// reads them from the kernel lists. JSON keys are a contract.
public struct KernelPaths: Codable, Equatable, Sendable {
    /// The level in use, as `ONBOARD_ISA` names it.
    public let active: String
    /// Family ("f32_gemm", "f32_math", "f32_scan", "q8_gemm", "q4_gemm", "q8_rows", "q8_codecs", "movement") -> its ops'
    /// paths, fastest first, joined by "+" when its ops differ (e.g. "avx2+scalar").
    public let families: [String: String]
    /// VNNI (AVX-VNNI, AVX-512 VNNI) or arm64 sdot/udot/i8mm usable.
    public let int8DotProduct: Bool

    enum CodingKeys: String, CodingKey { case active, families, int8DotProduct = "int8_dot_product" }

    public init(active: String, families: [String: String], int8DotProduct: Bool) {
        (self.active, self.families, self.int8DotProduct) = (active, families, int8DotProduct)
    }

    /// What to tell a reader of INT8 figures on a CPU without an int8 dot-product instruction.
    public static var noDotProductNote: String { "no int8 dot-product instruction (no VNNI / no sdot): INT8 mainly saves memory here" }

    /// One line: the level, the families whose paths differ from it, and the note when it applies.
    public var text: String {
        let differing = families.keys.sorted().filter { families[$0] != active }.map { "\($0) \(families[$0] ?? "")" }
        var line = active + (differing.isEmpty ? " (every kernel family)" : " (" + differing.joined(separator: ", ") + ")")
        if !int8DotProduct { line += "; " + Self.noDotProductNote }
        return line
    }
}
