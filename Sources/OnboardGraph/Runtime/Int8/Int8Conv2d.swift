import OnboardCore

/// NCHW convolution in integers: per group, the patches of every image are gathered into rows
/// (im2row, padding with the input's zero point so padding means 0.0), multiplied by the group's
/// packed weight in one product over all images, and the [images x pixels, channels] result is
/// transposed into NCHW.
final class Int8Conv2d {
    let params: Conv2dParams
    let groups: [Int8Linear]
    let kernel: (Int, Int)
    let inputZeroPoint: UInt8

    var byteCount: Int { groups.reduce(0) { $0 + $1.byteCount } }

    init(codes: UnsafePointer<Int8>, scales: [Float], weightShape w: [Int], bias: UnsafePointer<Float>?,
         params: Conv2dParams, input: ActivationQuant, output: ActivationQuant, fixedPoint: Bool) {
        self.params = params
        kernel = (w[2], w[3])
        inputZeroPoint = UInt8(input.zeroPoint)
        let groupOut = w[0] / params.groups, patch = w[1] * w[2] * w[3]
        groups = (0..<params.groups).map { g in
            let groupScales = scales.count == 1 ? scales : Array(scales[(g * groupOut)..<((g + 1) * groupOut)])
            return Int8Linear(codes: codes + g * groupOut * patch, scales: groupScales, n: groupOut, k: patch,
                              bias: bias.map { $0 + g * groupOut }, input: input, output: output, fixedPoint: fixedPoint)
        }
    }

    static func scratchBytes(inputShape x: [Int], weightShape w: [Int], outputShape y: [Int], groups: Int) -> Int {
        let rows = x[0] * y[2] * y[3]
        return rows * (x[1] / groups) * w[2] * w[3] + rows * (w[0] / groups) + 128
    }

    func run(_ x: UnsafePointer<UInt8>, inputShape s: [Int], into y: UnsafeMutablePointer<UInt8>, outputShape o: [Int],
             scratch: UnsafeMutableRawPointer, threads: Int) {
        let (channels, height, width) = (s[1], s[2], s[3])
        let (oh, ow) = (o[2], o[3])
        let pixels = oh * ow
        let groupIn = channels / params.groups
        let patch = groupIn * kernel.0 * kernel.1
        let images = s[0]
        let rows = scratch.assumingMemoryBound(to: UInt8.self)
        let product = (scratch + images * pixels * patch + 64).assumingMemoryBound(to: UInt8.self)
        for (g, linear) in groups.enumerated() {
            for b in 0..<images {
                im2row(x + (b * channels + g * groupIn) * height * width, channels: groupIn, height: height, width: width,
                       outSize: (oh, ow), into: rows + b * pixels * patch, threads: threads)
            }
            linear.run(rows, m: images * pixels, lda: patch, into: product, ldc: linear.n, threads: threads)
            for b in 0..<images {
                let source = product + b * pixels * linear.n
                let target = y + (b * o[1] + g * linear.n) * pixels
                for p in 0..<pixels {
                    for c in 0..<linear.n { target[c * pixels + p] = source[p * linear.n + c] }
                }
            }
        }
    }

    /// Row (oy, ox) holds the patch (c, ky, kx) under output pixel (oy, ox).
    private func im2row(_ image: UnsafePointer<UInt8>, channels: Int, height: Int, width: Int, outSize: (Int, Int),
                        into rows: UnsafeMutablePointer<UInt8>, threads: Int) {
        let (kh, kw) = kernel, (oh, ow) = outSize, p = params
        let patch = channels * kh * kw, pad = inputZeroPoint
        if kh == 1, kw == 1, p.strideH == 1, p.strideW == 1, p.padH == 0, p.padW == 0 {
            // A pointwise conv's rows are the image transposed: [C, H*W] -> [H*W, C].
            let plane = height * width
            for c in 0..<channels {
                let source = image + c * plane
                for pixel in 0..<plane { rows[pixel * channels + c] = source[pixel] }
            }
            return
        }
        Parallel.forRanges(count: oh * ow, threads: threads, grain: 16) { pixels in
            for pixel in pixels {
                let oy = pixel / ow, ox = pixel % ow
                let row = rows + pixel * patch
                for c in 0..<channels {
                    let plane = image + c * height * width
                    for ky in 0..<kh {
                        let iy = oy * p.strideH - p.padH + ky * p.dilationH
                        let dst = row + (c * kh + ky) * kw
                        guard iy >= 0, iy < height else {
                            dst.update(repeating: pad, count: kw)
                            continue
                        }
                        for kx in 0..<kw {
                            let ix = ox * p.strideW - p.padW + kx * p.dilationW
                            dst[kx] = (ix >= 0 && ix < width) ? plane[iy * width + ix] : pad
                        }
                    }
                }
            }
        }
    }
}
