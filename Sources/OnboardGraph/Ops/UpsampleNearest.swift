import OnboardCore

/// NCHW nearest-neighbour resize to a target size, index rule of torch's CPU kernel
/// (`nearest_idx` without scale factors): same size copies, exactly twice the size takes
/// dst / 2, otherwise min(floor(dst * Float(in) / Float(out)), in - 1) in float. Pure data
/// movement, so it works on any element size (f32 values, u8 codes).
struct UpsampleNearestOp: OpDefinition {
    let height: Int
    let width: Int

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...1)
        try check.float(0..<1)
        return (try Self.outputShape(check.shapes[0], height: height, width: width, fail: check.fail), .f32)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) { Self.run(inputs[0], output, context) }

    var quantization: QuantizationTraits { .movesCodesOnly }

    static func outputShape(_ x: [Int], height: Int, width: Int, fail: (String) -> OnboardError) throws -> [Int] {
        guard x.count == 4 else { throw fail("input must be [B,C,H,W], got \(x)") }
        guard height >= 1, width >= 1 else { throw fail("target size \(height)x\(width) must be >= 1") }
        guard x[2] >= 1, x[3] >= 1 else { throw fail("input \(x) is empty") }
        return [x[0], x[1], height, width]
    }

    static func sourceIndex(_ dst: Int, input: Int, output: Int) -> Int {
        if output == input { return dst }
        if output == 2 * input { return dst >> 1 }
        let scale = Float(input) / Float(output)
        return min(Int((Float(dst) * scale).rounded(.down)), input - 1)
    }

    static func run(_ input: Operand, _ output: Operand, _ context: KernelContext) {
        let (h, w, oh, ow) = (input.shape[2], input.shape[3], output.shape[2], output.shape[3])
        let planes = input.shape[0] * input.shape[1]
        let size = input.dtype.byteSize
        let rows = (0..<oh).map { sourceIndex($0, input: h, output: oh) }
        let columns = (0..<ow).map { sourceIndex($0, input: w, output: ow) }
        let src = input.pointer, dst = output.pointer
        Parallel.forRanges(count: planes * oh, threads: context.threads, grain: max(1, 4096 / ow)) { range in
            for outRow in range {
                let plane = outRow / oh, oy = outRow % oh
                let line = src + (plane * h + rows[oy]) * w * size
                let target = dst + outRow * ow * size
                switch size {
                case 4:
                    let s = line.assumingMemoryBound(to: UInt32.self), t = target.assumingMemoryBound(to: UInt32.self)
                    for ox in 0..<ow { t[ox] = s[columns[ox]] }
                case 1:
                    let s = line.assumingMemoryBound(to: UInt8.self), t = target.assumingMemoryBound(to: UInt8.self)
                    for ox in 0..<ow { t[ox] = s[columns[ox]] }
                default:
                    for ox in 0..<ow { (target + ox * size).copyMemory(from: line + columns[ox] * size, byteCount: size) }
                }
            }
        }
    }
}
