import OnboardCore

/// The base weights the delta target applies its input to; the delta seeds were compressed
/// against these (`tools/fuzz.sh seeds`), so they must not change without remaking them.
enum DeltaFuzzBase {
    static func tensors(tuned: Bool = false) throws -> [(name: String, tensor: Tensor)] {
        func values(_ count: Int, _ salt: Int) -> [Float] {
            (0..<count).map { i in
                let base = Float((i * 37 + salt) % 101) / 50 - 1
                return tuned ? base + Float((i * 13 + salt) % 17 - 8) / 400 : base
            }
        }
        return [
            ("proj.weight", try Tensor(shape: [256, 64], values: values(16384, 1))),
            ("conv.weight", try Tensor(shape: [4, 2, 3, 3], values: values(72, 2))),
            ("proj.bias", try Tensor(shape: [8], values: values(8, 3))),
        ]
    }
}
