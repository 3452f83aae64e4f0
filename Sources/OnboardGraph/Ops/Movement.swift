import OnboardCore

/// Permute, concat and slice: pure data movement, copied in contiguous runs.
enum MovementOps {
    static func concatShape(_ s: [[Int]], axis: Int, fail: (String) -> OnboardError) throws -> [Int] {
        let first = s[0]
        guard axis >= 0, axis < first.count else { throw fail("axis \(axis) out of range for \(first)") }
        var out = first
        out[axis] = 0
        for shape in s {
            guard shape.count == first.count,
                  shape.indices.allSatisfy({ $0 == axis || shape[$0] == first[$0] }) else {
                throw fail("shapes \(s) differ outside axis \(axis)")
            }
            out[axis] += shape[axis]
        }
        return out
    }

    static func permute(_ input: Operand, _ output: Operand, permutation: [Int], _ context: KernelContext) {
        let rank = permutation.count
        let elementSize = input.dtype.byteSize
        guard output.count > 0 else { return }
        var inputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            inputStrides[axis] = inputStrides[axis + 1] * input.shape[axis + 1]
        }
        // Strides of the input, in output axis order; the innermost run is copied at once when
        // the last output axis is the last input axis.
        let strides = permutation.map { inputStrides[$0] }
        let out = output.shape
        let run = rank > 0 && permutation[rank - 1] == rank - 1 ? out[rank - 1] : 1
        let outerRank = run > 1 ? rank - 1 : rank
        let runs = output.count / run
        let src = input.pointer, dst = output.pointer
        let runBytes = run * elementSize
        Parallel.forRanges(count: runs, threads: context.threads, grain: max(1, 16384 / run)) { range in
            // Output-order odometer over the outer axes: one division pass per range, then increments.
            var index = [Int](repeating: 0, count: max(outerRank, 1))
            var rest = range.lowerBound, offset = 0
            for axis in stride(from: outerRank - 1, through: 0, by: -1) {
                index[axis] = rest % out[axis]
                rest /= out[axis]
                offset += index[axis] * strides[axis]
            }
            var target = dst + range.lowerBound * runBytes
            for _ in range {
                target.copyMemory(from: src + offset * elementSize, byteCount: runBytes)
                target += runBytes
                var axis = outerRank - 1
                while axis >= 0 {
                    index[axis] += 1
                    offset += strides[axis]
                    if index[axis] < out[axis] { break }
                    offset -= index[axis] * strides[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    static func concat(_ inputs: [Operand], _ output: Operand, axis: Int) {
        let outer = output.shape[..<axis].reduce(1, *)
        let inner = output.shape[(axis + 1)...].reduce(1, *)
        let elementSize = output.dtype.byteSize
        let outRow = output.shape[axis] * inner * elementSize
        var offset = 0
        for input in inputs {
            let row = input.shape[axis] * inner * elementSize
            for o in 0..<outer {
                (output.pointer + o * outRow + offset).copyMemory(from: input.pointer + o * row, byteCount: row)
            }
            offset += row
        }
    }

    static func slice(_ input: Operand, _ output: Operand, axis: Int, start: Int, step: Int) {
        let outer = input.shape[..<axis].reduce(1, *)
        let inner = input.shape[(axis + 1)...].reduce(1, *)
        let elementSize = output.dtype.byteSize
        let inRow = input.shape[axis] * inner * elementSize
        let outCount = output.shape[axis]
        for o in 0..<outer {
            let src = input.pointer + o * inRow, dst = output.pointer + o * outCount * inner * elementSize
            if step == 1 {
                dst.copyMemory(from: src + start * inner * elementSize, byteCount: outCount * inner * elementSize)
            } else {
                for i in 0..<outCount {
                    (dst + i * inner * elementSize).copyMemory(from: src + (start + i * step) * inner * elementSize,
                                                               byteCount: inner * elementSize)
                }
            }
        }
    }
}
