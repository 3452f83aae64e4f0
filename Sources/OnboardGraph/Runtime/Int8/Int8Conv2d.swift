import CKernels
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
            im2row(x + g * groupIn * height * width, images: images, imageStride: channels * height * width,
                   channels: groupIn, height: height, width: width, outSize: (oh, ow), into: rows, threads: threads)
            linear.run(rows, m: images * pixels, lda: patch, into: product, ldc: linear.n, threads: threads)
            // [pixels, n] rows back to the output's [n, pixels] planes, image by image.
            let (n, outChannels) = (linear.n, o[1])
            Parallel.forRanges(count: images, threads: threads) { range in
                for b in range {
                    onboard_transpose_u8(product + b * pixels * n, n, y + (b * outChannels + g * n) * pixels, pixels, pixels, n)
                }
            }
        }
    }

    /// Row (image, oy, ox) holds the patch (c, ky, kx) under output pixel (oy, ox) of that image.
    private func im2row(_ first: UnsafePointer<UInt8>, images: Int, imageStride: Int, channels: Int, height: Int, width: Int,
                        outSize: (Int, Int), into rows: UnsafeMutablePointer<UInt8>, threads: Int) {
        let (kh, kw) = kernel, (oh, ow) = outSize, p = params
        let patch = channels * kh * kw, pad = inputZeroPoint, pixels = oh * ow
        if kh == 1, kw == 1, p.strideH == 1, p.strideW == 1, p.padH == 0, p.padW == 0 {
            // A pointwise conv's rows are the image transposed: [C, H*W] -> [H*W, C].
            Parallel.forRanges(count: images, threads: threads) { range in
                for b in range {
                    onboard_transpose_u8(first + b * imageStride, pixels, rows + b * pixels * channels, channels, channels, pixels)
                }
            }
            return
        }
        Parallel.forRanges(count: images * pixels, threads: threads, grain: 16) { range in
            for index in range {
                let image = first + (index / pixels) * imageStride
                let oy = (index % pixels) / ow, ox = index % ow
                let row = rows + index * patch
                let ix0 = ox * p.strideW - p.padW
                // Windows inside the image rows with unit dilation copy kw contiguous codes.
                let contiguous = p.dilationW == 1 && ix0 >= 0 && ix0 + kw <= width
                for c in 0..<channels {
                    let plane = image + c * height * width
                    for ky in 0..<kh {
                        let iy = oy * p.strideH - p.padH + ky * p.dilationH
                        let dst = row + (c * kh + ky) * kw
                        guard iy >= 0, iy < height else {
                            dst.update(repeating: pad, count: kw)
                            continue
                        }
                        if contiguous {
                            dst.update(from: plane + iy * width + ix0, count: kw)
                            continue
                        }
                        for kx in 0..<kw {
                            let ix = ix0 + kx * p.dilationW
                            dst[kx] = (ix >= 0 && ix < width) ? plane[iy * width + ix] : pad
                        }
                    }
                }
            }
        }
    }
}
