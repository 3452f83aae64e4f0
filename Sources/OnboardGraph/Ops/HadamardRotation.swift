import CKernels
import OnboardCore
import OnboardQuant

/// The orthonormal Hadamard rotation of every row over the last axis, `y = x · R` (`Hadamard`: n = K·2^m
/// with K a known Hadamard order): QuaRot's and OSTQuant's online rotation in front of a Linear whose
/// weight takes `W · R`, so the product is unchanged while the quantized input loses its outlier channels.
struct HadamardRotationOp: OpDefinition {
    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...1)
        try check.float(0..<1)
        let shape = check.shapes[0]
        guard let n = shape.last else { throw check.fail("needs at least one axis") }
        do { _ = try Hadamard(size: n) } catch { throw check.fail("\(error)") }
        return (shape, .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    var quantization: QuantizationTraits { .floatIsland }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        guard let n = inputs[0].shape.last, n > 0, let hadamard = try? Hadamard(size: n) else { return }
        let x = inputs[0].floats, y = output.floats
        if x != y { y.update(from: x, count: inputs[0].count) }
        let factor = hadamard.factorMatrix
        Parallel.forRanges(count: inputs[0].count / n, threads: context.threads, grain: 8) { range in
            let work = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { work.deallocate() }
            onboard_f32_hadamard_rows(y + range.lowerBound * n, range.count, n, hadamard.factor, factor, work)
        }
    }
}
