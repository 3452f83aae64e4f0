import CKernels
import OnboardCore

/// Axes reordered, copied in contiguous runs (or as a batched transpose). Pure data movement, so it
/// works on any element size (f32 values, u8 codes).
struct PermuteOp: OpDefinition {
    let permutation: [Int]

    func outputInfo(_ check: ShapeCheck) throws -> ([Int], DType) {
        try check.arity(1...1)
        let shape = check.shapes[0]
        guard permutation.sorted() == Array(0..<shape.count) else {
            throw check.fail("\(permutation) is not a permutation of \(shape.count) axes")
        }
        return (permutation.map { shape[$0] }, check.inputs[0].dtype)
    }

    func scratchBytes(inputs: [[Int]], output: [Int], threads: Int) -> Int { 0 }

    func run(_ inputs: [Operand], _ output: Operand, _ context: KernelContext, node: String) {
        Self.permute(inputs[0], output, permutation: permutation, context)
    }

    var quantization: QuantizationTraits { .movesCodesOnly }

    static func permute(_ input: Operand, _ output: Operand, permutation: [Int], _ context: KernelContext) {
        let rank = permutation.count
        let elementSize = input.dtype.byteSize
        guard output.count > 0 else { return }
        if let (batch, rows, columns) = batchedTranspose(shape: input.shape, permutation: permutation),
           elementSize == 1 || elementSize == 4 {
            transpose(input.pointer, output.pointer, batch: batch, rows: rows, columns: columns, elementSize: elementSize,
                      threads: context.threads)
            return
        }
        var inputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            inputStrides[axis] = inputStrides[axis + 1] * input.shape[axis + 1]
        }
        // Byte strides of the input, in output axis order; the innermost run is copied at once
        // when the last output axis is the last input axis.
        let out = output.shape
        let run = rank > 0 && permutation[rank - 1] == rank - 1 ? out[rank - 1] : 1
        let outerRank = run > 1 ? rank - 1 : rank
        let strides = permutation.prefix(outerRank).map { inputStrides[$0] * elementSize }
        let outerShape = Array(out.prefix(outerRank))
        let runs = output.count / run
        nonisolated(unsafe) let src = UnsafePointer(input.pointer.assumingMemoryBound(to: UInt8.self))
        nonisolated(unsafe) let dst = output.pointer.assumingMemoryBound(to: UInt8.self)
        Parallel.forRanges(count: runs, threads: context.threads, grain: max(1, 16384 / run)) { range in
            onboard_copy_runs(src, dst, outerRank, outerShape, strides, run * elementSize, range.lowerBound, range.count)
        }
    }

    /// The permutation as [B, R, C] -> [B, C, R] once adjacent axes that stay together are merged
    /// (e.g. NCHW <-> NHWC), or nil.
    static func batchedTranspose(shape: [Int], permutation: [Int]) -> (batch: Int, rows: Int, columns: Int)? {
        // Groups of output axes that read consecutive input axes.
        var groups: [[Int]] = []
        for axis in permutation {
            if let last = groups.last?.last, axis == last + 1 { groups[groups.count - 1].append(axis) } else { groups.append([axis]) }
        }
        func size(_ group: [Int]) -> Int { group.reduce(1) { $0 * shape[$1] } }
        switch groups.count {
        case 2 where groups[0].first ?? 0 > groups[1].first ?? 0:
            return (1, size(groups[1]), size(groups[0]))
        case 3 where groups[0].first == 0 && (groups[1].first ?? 0) > (groups[2].first ?? 0):
            return (size(groups[0]), size(groups[2]), size(groups[1]))
        default:
            return nil
        }
    }

    /// out[b][c][r] = in[b][r][c] by the SIMD kernels: bytes in blocks of 64 rows, 4-byte elements
    /// in 32x32 tiles; batches and blocks spread over the workers.
    static func transpose(_ src: UnsafeMutableRawPointer, _ dst: UnsafeMutableRawPointer, batch: Int, rows: Int, columns: Int,
                          elementSize: Int, threads: Int) {
        let tile = elementSize == 1 ? 64 : 32
        let rowTiles = (rows + tile - 1) / tile
        nonisolated(unsafe) let (src, dst) = (src, dst)
        Parallel.forRanges(count: batch * rowTiles, threads: threads, grain: max(1, 4096 / (tile * max(columns, 1)))) { range in
            for task in range {
                let b = task / rowTiles, r0 = (task % rowTiles) * tile, r1 = min(r0 + tile, rows)
                let base = b * rows * columns
                if elementSize == 1 {
                    let s = src.assumingMemoryBound(to: UInt8.self), d = dst.assumingMemoryBound(to: UInt8.self)
                    onboard_transpose_u8(s + base + r0 * columns, columns, d + base + r0, rows, r1 - r0, columns)
                    continue
                }
                let s = src.assumingMemoryBound(to: UInt32.self), d = dst.assumingMemoryBound(to: UInt32.self)
                var c0 = 0
                while c0 < columns {
                    let c1 = min(c0 + tile, columns)
                    onboard_transpose_u32(s + base + r0 * columns + c0, columns, d + base + c0 * rows + r0, rows, r1 - r0, c1 - c0)
                    c0 = c1
                }
            }
        }
    }
}
