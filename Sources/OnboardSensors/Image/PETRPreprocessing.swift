import Foundation
import OnboardCore

/// PETR's test-time image preprocessing (`ResizeCropFlipImage` with training=False, then
/// `NormalizeMultiviewImage`): resize by r = max(fH/H, fW/W) to (int(W r), int(H r)), keep the
/// bottom fH rows and the centred fW columns, update intrinsics by ida = [[r,0,-cropX],[0,r,-cropY]],
/// then (x - mean) / std per channel in the configured order. H, W are the image's own size
/// (1600x900 for nuScenes, which gives PETR's formula).
public struct PETRPreprocessing: Sendable, Equatable {
    public enum ChannelOrder: String, Sendable { case bgr, rgb }

    public var width: Int
    public var height: Int
    public var mean: [Float]
    public var std: [Float]
    public var channelOrder: ChannelOrder
    public var filter: ResampleFilter
    /// Decode at the smallest libjpeg DCT scale that still covers the resized size (much faster;
    /// differs from the exact full decode + Pillow resize by a few grey levels).
    public var dctScaling: Bool

    /// The `petr_vovnet_gridmask_p4_800x320` settings: BGR, mean [103.530, 116.280, 123.675],
    /// std [57.375, 57.120, 58.395].
    public static let vovnet800x320 = PETRPreprocessing(
        width: 800, height: 320, mean: [103.530, 116.280, 123.675], std: [57.375, 57.120, 58.395],
        channelOrder: .bgr, filter: .bicubic, dctScaling: true)

    public init(width: Int, height: Int, mean: [Float], std: [Float], channelOrder: ChannelOrder,
                filter: ResampleFilter = .bicubic, dctScaling: Bool = true) {
        self.width = width; self.height = height; self.mean = mean; self.std = std
        self.channelOrder = channelOrder; self.filter = filter; self.dctScaling = dctScaling
    }

    public func validate() throws {
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw OnboardError.invalidArgument("preprocessing size \(width)x\(height) must be 1...16384 per side")
        }
        guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allFinite else {
            throw OnboardError.invalidArgument("mean and std need 3 finite values each (std > 0)")
        }
    }

    /// Resize and crop for an image of `imageWidth` x `imageHeight`.
    public struct Geometry: Equatable, Sendable {
        public let scale: Double
        public let resizedWidth: Int
        public let resizedHeight: Int
        public let cropX: Int
        public let cropY: Int

        /// K' = ida K (PETR's intrinsics update).
        public func updated(intrinsic k: Matrix3) -> Matrix3 {
            Matrix3([scale, 0, -Double(cropX), 0, scale, -Double(cropY), 0, 0, 1]) * k
        }
    }

    public func geometry(imageWidth: Int, imageHeight: Int) -> Geometry {
        let r = max(Double(height) / Double(imageHeight), Double(width) / Double(imageWidth))
        let newW = Int(Double(imageWidth) * r), newH = Int(Double(imageHeight) * r)
        return Geometry(scale: r, resizedWidth: newW, resizedHeight: newH,
                        cropX: max(0, newW - width) / 2, cropY: newH - height)
    }

    /// A JPEG decoded as far as the crop needs (DCT-scaled, rows above the crop skipped).
    public struct Decoded: Sendable {
        public let image: RGBImage
        let geometry: Geometry
        let firstRow: Int
        let sourceHeight: Int
    }

    /// Decodes, resizes, crops and normalises one JPEG into `out` (3 x height x width planes).
    public func process(jpeg data: [UInt8], path: String, into out: UnsafeMutablePointer<Float>) throws {
        finish(try decode(jpeg: data, path: path), into: out)
    }

    /// The decoding half of `process`; `expectedSize` (the size a table gives for the image) must
    /// match the JPEG's own, or the geometry built from the table would not fit the pixels.
    public func decode(jpeg data: [UInt8], path: String, expectedSize: (width: Int, height: Int)? = nil) throws -> Decoded {
        let (w, h) = try JPEGCodec.size(of: data, path: path)
        if let expectedSize, expectedSize != (w, h) {
            throw OnboardError.format(path: path, item: nil,
                                      reason: "the image is \(w)x\(h), its sample_data record says width \(expectedSize.width), height \(expectedSize.height)")
        }
        let g = geometry(imageWidth: w, imageHeight: h)
        let eighths = dctScaling
            ? JPEGCodec.dctScale(width: w, height: h, minWidth: g.resizedWidth, minHeight: g.resizedHeight) : 8
        let decodedHeight = try JPEGCodec.scaledSize(of: data, eighths: eighths, path: path).height
        let rows = g.cropY..<(g.cropY + height)
        // Rows above the crop are never used: libjpeg skips them.
        let firstRow = PillowResampler.sourceRows(for: rows, height: g.resizedHeight, sourceHeight: decodedHeight,
                                                  filter: filter).lowerBound
        let decoded = try JPEGCodec.decode(data, path: path, eighths: eighths, bgr: channelOrder == .bgr, firstRow: firstRow)
        return Decoded(image: decoded, geometry: g, firstRow: firstRow, sourceHeight: decodedHeight)
    }

    /// The resize, crop and normalisation half of `process`.
    public func finish(_ decoded: Decoded, into out: UnsafeMutablePointer<Float>) {
        normalize(resizedWindow(decoded), into: out)
    }

    /// The resized and cropped network window of a decoded image, still u8.
    func resizedWindow(_ decoded: Decoded) -> RGBImage {
        let g = decoded.geometry
        return PillowResampler.resizeWindow(
            decoded.image, width: g.resizedWidth, height: g.resizedHeight, rows: g.cropY..<(g.cropY + height),
            columns: g.cropX..<(g.cropX + width), filter: filter, firstSourceRow: decoded.firstRow,
            sourceHeight: decoded.sourceHeight)
    }

    /// `finish` for a network that takes its input as u8 codes: each pixel value through its
    /// channel's 256-entry table (`tables[c][v]`, the code of `normalizedLevels(channel: c)[v]`), planar.
    public func finish(_ decoded: Decoded, codes out: UnsafeMutablePointer<UInt8>, tables: [[UInt8]]) {
        precondition(tables.count == 3 && tables.allSatisfy { $0.count == 256 }, "finish(codes:) needs three 256-entry tables")
        let window = resizedWindow(decoded)
        let plane = window.width * window.height
        let (c0, c1, c2) = (out, out + plane, out + 2 * plane)
        tables[0].withUnsafeBufferPointer { t0 in tables[1].withUnsafeBufferPointer { t1 in tables[2].withUnsafeBufferPointer { t2 in
            window.pixels.withUnsafeBufferPointer { px in
                for i in 0..<plane {
                    c0[i] = t0[Int(px[i * 3])]
                    c1[i] = t1[Int(px[i * 3 + 1])]
                    c2[i] = t2[Int(px[i * 3 + 2])]
                }
            }
        } } }
    }

    /// What `normalize` makes of each pixel value 0...255 in channel `channel` (0...2).
    public func normalizedLevels(channel: Int) -> [Float] {
        let inverse = Float(1 / Double(std[channel]))
        return (0...255).map { (Float($0) - mean[channel]) * inverse }
    }

    /// (x - mean) * (1 / std) in Float, as mmcv's `imnormalize`; interleaved to planar.
    public func normalize(_ image: RGBImage, into out: UnsafeMutablePointer<Float>) {
        let plane = image.width * image.height
        let inverse = std.map { Float(1 / Double($0)) }
        let (m0, m1, m2) = (mean[0], mean[1], mean[2]), (s0, s1, s2) = (inverse[0], inverse[1], inverse[2])
        let (p0, p1, p2) = (out, out + plane, out + 2 * plane)
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<plane {
                p0[i] = (Float(px[i * 3]) - m0) * s0
                p1[i] = (Float(px[i * 3 + 1]) - m1) * s1
                p2[i] = (Float(px[i * 3 + 2]) - m2) * s2
            }
        }
    }

    /// [N, 3, height, width] from N JPEG files, decoded on up to `threads` threads. Errors name the file.
    public func batch(files: [String], expectedSizes: [(width: Int, height: Int)]? = nil, threads: Int) throws -> Tensor {
        try validate()
        if let expectedSizes, expectedSizes.count != files.count {
            throw OnboardError.invalidArgument("\(expectedSizes.count) expected image sizes for \(files.count) files")
        }
        let tensor = Tensor(zeros: [files.count, 3, height, width])
        let planeFloats = 3 * height * width
        let base = tensor.rawPointer.bindMemory(to: Float.self, capacity: files.count * planeFloats)
        let errors = ParallelErrors(count: files.count)
        nonisolated(unsafe) let output = base
        Parallel.forRanges(count: files.count, threads: threads) { range in
            for i in range {
                do {
                    let data = try JPEGCodec.readFile(files[i])
                    finish(try decode(jpeg: data, path: files[i], expectedSize: expectedSizes?[i]), into: output + i * planeFloats)
                } catch {
                    errors.set(i, error)
                }
            }
        }
        if let failure = errors.first { throw failure.error }
        return tensor
    }
}
