import Foundation

/// Antialiased separable resampling with the same arithmetic as Pillow's `Image.resize` on 8-bit
/// images (Resample.c): the filter support widens with the downscale factor, weights are
/// normalised, turned into 22-bit fixed point, and the horizontal pass (rounded to 8 bits)
/// runs before the vertical one. PETR resizes with `PIL.Image.resize(dims)`, whose default filter
/// is bicubic (a = -0.5) in Pillow >= 7, so this reproduces its pixels exactly.
public enum ResampleFilter: String, Sendable, CaseIterable {
    case bicubic, bilinear

    var support: Double { self == .bicubic ? 2 : 1 }

    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear: return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// Fixed-point taps of one output coordinate.
struct ResampleTaps {
    let first: [Int]
    let count: [Int]
    let weights: [Int32]   // `stride` per output position
    let stride: Int

    static let precisionBits = 22

    /// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for `inSize` -> `outSize`.
    init(inSize: Int, outSize: Int, filter: ResampleFilter) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        stride = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outSize), count = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * stride)
        let one = Double(1 << Self.precisionBits)
        var k = [Double](repeating: 0, count: stride)
        for out in 0..<outSize {
            let center = (Double(out) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let n = min(Int(center + support + 0.5), inSize) - lo
            var total = 0.0
            for x in 0..<n {
                k[x] = filter.weight((Double(x + lo) - center + 0.5) / filterScale)
                total += k[x]
            }
            for x in 0..<n {
                let w = total != 0 ? k[x] / total : k[x]
                weights[out * stride + x] = Int32((w < 0 ? -0.5 + w * one : 0.5 + w * one).rounded(.towardZero))
            }
            first[out] = lo
            count[out] = max(n, 0)
        }
        self.first = first; self.count = count; self.weights = weights
    }

    @inline(__always) static func clip8(_ v: Int32) -> UInt8 {
        if v <= 0 { return 0 }
        if v >= Int32(255 << precisionBits) { return 255 }
        return UInt8(truncatingIfNeeded: v >> Int32(precisionBits))
    }
}

public enum PillowResampler {
    /// The source rows that output rows `rows` of a `sourceHeight` -> `height` resize read.
    public static func sourceRows(for rows: Range<Int>, height: Int, sourceHeight: Int, filter: ResampleFilter) -> Range<Int> {
        let valid = rows.clamped(to: 0..<height)
        guard !valid.isEmpty else { return 0..<0 }
        guard height != sourceHeight else { return valid }
        let taps = ResampleTaps(inSize: sourceHeight, outSize: height, filter: filter)
        return taps.first[valid.lowerBound]..<(taps.first[valid.upperBound - 1] + taps.count[valid.upperBound - 1])
    }

    /// Resizes `image` to `width` x `height` and returns only the window `rows` x `columns` of the
    /// result (PETR crops right after resizing; every output pixel is computed as in the full
    /// resize). Pixels of the window outside the resized image are 0, as PIL's crop pads.
    /// `image` may hold only source rows `firstSourceRow...` of a `sourceHeight`-row picture, as long
    /// as it covers `sourceRows(for: rows, ...)`; otherwise the window is left black.
    public static func resizeWindow(_ image: RGBImage, width: Int, height: Int, rows: Range<Int>, columns: Range<Int>,
                                    filter: ResampleFilter, firstSourceRow: Int = 0, sourceHeight: Int? = nil) -> RGBImage {
        let outW = columns.count, outH = rows.count
        var result = [UInt8](repeating: 0, count: outW * outH * 3)
        let fullHeight = sourceHeight ?? image.height
        let validRows = rows.clamped(to: 0..<height), validColumns = columns.clamped(to: 0..<width)
        // Source rows the vertical pass reads.
        let srcRows = sourceRows(for: rows, height: height, sourceHeight: fullHeight, filter: filter)
        guard !validRows.isEmpty, !validColumns.isEmpty, image.width > 0, image.height > 0,
              srcRows.lowerBound >= firstSourceRow, srcRows.upperBound <= firstSourceRow + image.height else {
            return RGBImage(width: outW, height: outH, pixels: result)
        }
        let needH = width != image.width, needV = height != fullHeight
        let hTaps = ResampleTaps(inSize: image.width, outSize: width, filter: filter)
        let vTaps = ResampleTaps(inSize: fullHeight, outSize: height, filter: filter)
        let tempW = validColumns.count
        var temp = [UInt8](repeating: 0, count: tempW * srcRows.count * 3)
        image.pixels.withUnsafeBufferPointer { src in
            temp.withUnsafeMutableBufferPointer { tmp in
                for (ty, sy) in srcRows.enumerated() {
                    let srcRow = src.baseAddress! + (sy - firstSourceRow) * image.width * 3
                    let dstRow = tmp.baseAddress! + ty * tempW * 3
                    if !needH {
                        dstRow.update(from: srcRow + validColumns.lowerBound * 3, count: tempW * 3)
                        continue
                    }
                    for (tx, x) in validColumns.enumerated() {
                        let half = Int32(1 << (ResampleTaps.precisionBits - 1))
                        var s0 = half, s1 = half, s2 = half
                        let lo = hTaps.first[x], base = x * hTaps.stride
                        hTaps.weights.withUnsafeBufferPointer { w in
                            for k in 0..<hTaps.count[x] {
                                let p = srcRow + (lo + k) * 3, c = w[base + k]
                                s0 &+= Int32(p[0]) &* c; s1 &+= Int32(p[1]) &* c; s2 &+= Int32(p[2]) &* c
                            }
                        }
                        dstRow[tx * 3] = ResampleTaps.clip8(s0); dstRow[tx * 3 + 1] = ResampleTaps.clip8(s1)
                        dstRow[tx * 3 + 2] = ResampleTaps.clip8(s2)
                    }
                }
            }
        }
        let columnOffset = validColumns.lowerBound - columns.lowerBound
        var sums = [Int32](repeating: 0, count: tempW * 3)
        temp.withUnsafeBufferPointer { tmp in
            result.withUnsafeMutableBufferPointer { out in
                vTaps.weights.withUnsafeBufferPointer { w in
                    for y in validRows {
                        let dstRow = out.baseAddress! + ((y - rows.lowerBound) * outW + columnOffset) * 3
                        if !needV {
                            let srcRow = tmp.baseAddress! + (y - srcRows.lowerBound) * tempW * 3
                            dstRow.update(from: srcRow, count: tempW * 3)
                            continue
                        }
                        let lo = vTaps.first[y] - srcRows.lowerBound, n = vTaps.count[y], base = y * vTaps.stride
                        let rowLength = tempW * 3
                        sums.withUnsafeMutableBufferPointer { acc in
                            acc.update(repeating: Int32(1 << (ResampleTaps.precisionBits - 1)))
                            for k in 0..<n {
                                let c = w[base + k], srcRow = tmp.baseAddress! + (lo + k) * rowLength
                                for i in 0..<rowLength { acc[i] &+= Int32(srcRow[i]) &* c }
                            }
                            for i in 0..<rowLength { dstRow[i] = ResampleTaps.clip8(acc[i]) }
                        }
                    }
                }
            }
        }
        return RGBImage(width: outW, height: outH, pixels: result)
    }

    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter) -> RGBImage {
        resizeWindow(image, width: width, height: height, rows: 0..<height, columns: 0..<width, filter: filter)
    }
}
