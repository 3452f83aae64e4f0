import OnboardCore

/// The layers of a PETR head that see only weights and shapes (`adapt_pos3d` over the sine
/// encoding, `query_embedding` over the reference points), evaluated once when the graph is built.
/// Each output is a plain f32 sum over the inputs in their order, with no fused multiply-add: the
/// constants, and what an INT8 executor derives from them (folded biases, codes), are the same on
/// every CPU and kernel path (`ONBOARD_ISA`), which the FP32 GEMM kernels (FMA on AVX2, their own
/// blocking) do not promise.
enum PETRConstantLayers {
    /// `rows` [R, K] through Linears (or 1x1 convolutions: weights [out, in, 1, 1]) named `modules`,
    /// with `outWidths` outputs each and a ReLU between consecutive ones; rows on `threads` threads.
    static func dense(_ rows: [Float], width: Int, modules: [String], outWidths: [Int], convolution: Bool,
                      weights: WeightStore, threads: Int) throws -> [Float] {
        var x = rows, k = width
        for (index, (module, n)) in zip(modules, outWidths).enumerated() {
            let w = try PETRBuilder.floatParameter(weights, "\(module).weight", shape: convolution ? [n, k, 1, 1] : [n, k]).floats()
            let b = try PETRBuilder.floatParameter(weights, "\(module).bias", shape: [n]).floats()
            var transposed = [Float](repeating: 0, count: k * n)  // [K, N]: the column loop below is contiguous
            for j in 0..<n { for t in 0..<k { transposed[t * n + j] = w[j * k + t] } }
            let count = k == 0 ? 0 : x.count / k
            var y = [Float](repeating: 0, count: count * n)
            let relu = index + 1 < modules.count
            x.withUnsafeBufferPointer { input in
                transposed.withUnsafeBufferPointer { weight in
                    y.withUnsafeMutableBufferPointer { output in
                        guard let first = output.baseAddress, let columns = weight.baseAddress else { return }
                        Parallel.forRanges(count: count, threads: threads, grain: 16) { range in
                            for i in range {
                                let out = first + i * n
                                for j in 0..<n { out[j] = b[j] }
                                for t in 0..<k {
                                    let a = input[i * k + t], column = columns + t * n
                                    for j in 0..<n { out[j] = out[j] + a * column[j] }
                                }
                                if relu { for j in 0..<n { out[j] = max(out[j], 0) } }
                            }
                        }
                    }
                }
            }
            x = y
            k = n
        }
        return x
    }

    /// [N, C, h, w] -> rows [N*h*w, C].
    static func rows(ofMap map: Tensor) -> [Float] {
        let s = map.shape, (n, c, pixels) = (s[0], s[1], s[2] * s[3])
        let values = map.floats()
        var out = [Float](repeating: 0, count: values.count)
        for b in 0..<n { for ch in 0..<c { for p in 0..<pixels { out[(b * pixels + p) * c + ch] = values[(b * c + ch) * pixels + p] } } }
        return out
    }

    /// rows [N*h*w, C] -> [N, C, h, w].
    static func map(ofRows rows: [Float], cameras n: Int, channels c: Int, height: Int, width: Int) throws -> Tensor {
        let pixels = height * width
        var out = [Float](repeating: 0, count: rows.count)
        for b in 0..<n { for ch in 0..<c { for p in 0..<pixels { out[(b * c + ch) * pixels + p] = rows[(b * pixels + p) * c + ch] } } }
        return try Tensor(shape: [n, c, height, width], values: out)
    }
}
