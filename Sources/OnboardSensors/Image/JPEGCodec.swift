import CImageCodec
import Foundation
import OnboardCore

/// JPEG decode/encode through libjpeg-turbo. A corrupt or truncated file is an error naming `path`,
/// never a process exit (libjpeg's default error handler is replaced in CImageCodec).
public enum JPEGCodec {
    /// Largest decoded width or height.
    public static let maxSide = 16384

    /// Size stored in the header.
    public static func size(of data: [UInt8], path: String) throws -> (width: Int, height: Int) {
        try scaledSize(of: data, eighths: 8, path: path)
    }

    /// Output size of a decode at scale `eighths`/8.
    public static func scaledSize(of data: [UInt8], eighths: Int, path: String) throws -> (width: Int, height: Int) {
        var width: Int32 = 0, height: Int32 = 0
        try call(path) { error, capacity in
            data.withUnsafeBufferPointer { oic_jpeg_scaled_size($0.baseAddress, $0.count, Int32(eighths), &width, &height, error, capacity) }
        }
        return (Int(width), Int(height))
    }

    /// The smallest DCT scale (in eighths) whose output is at least `minWidth` x `minHeight`.
    public static func dctScale(width: Int, height: Int, minWidth: Int, minHeight: Int) -> Int {
        for eighths in 1...8 where (width * eighths + 7) / 8 >= minWidth && (height * eighths + 7) / 8 >= minHeight {
            return eighths
        }
        return 8
    }

    /// Decodes at scale `eighths`/8 into interleaved 8-bit pixels (BGR when `bgr`). With `firstRow`,
    /// the rows above it are skipped (not colour-converted) and the image holds rows firstRow..<height.
    public static func decode(_ data: [UInt8], path: String, eighths: Int = 8, bgr: Bool = false,
                              firstRow: Int = 0) throws -> RGBImage {
        let (w, h) = try scaledSize(of: data, eighths: eighths, path: path)
        // The header alone sets the allocation below: a 500-byte file can claim 65535 x 65535 (12 GB).
        // Rigs and preprocessing stop at 16384 a side, so no camera image is larger.
        guard w > 0, h > 0, w <= maxSide, h <= maxSide else {
            throw OnboardError.format(path: path, item: nil, reason: "JPEG size \(w)x\(h) is not supported")
        }
        let firstRow = max(0, min(firstRow, h - 1))
        var pixels = [UInt8](repeating: 0, count: w * (h - firstRow) * 3)
        var width: Int32 = 0, height: Int32 = 0
        try call(path) { error, capacity in
            data.withUnsafeBufferPointer { src in
                pixels.withUnsafeMutableBufferPointer { dst in
                    oic_jpeg_decode(src.baseAddress, src.count, Int32(eighths), bgr ? 1 : 0, Int32(firstRow), dst.baseAddress,
                                    dst.count, &width, &height, error, capacity)
                }
            }
        }
        return RGBImage(width: Int(width), height: Int(height) - firstRow, pixels: pixels)
    }

    public static func decodeFile(_ path: String, eighths: Int = 8, bgr: Bool = false) throws -> RGBImage {
        try decode(readFile(path), path: path, eighths: eighths, bgr: bgr)
    }

    /// Baseline 4:2:0 JPEG of an RGB image (deterministic for equal input).
    public static func encode(_ image: RGBImage, quality: Int = 90, path: String = "jpeg") throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var count = 0
        try call(path) { error, capacity in
            image.pixels.withUnsafeBufferPointer {
                oic_jpeg_encode_rgb($0.baseAddress, Int32(image.width), Int32(image.height), Int32(quality), &out, &count, error, capacity)
            }
        }
        defer { oic_free(out) }
        guard let out else { throw OnboardError.io(path: path, reason: "JPEG encoder returned no data") }
        return Array(UnsafeBufferPointer(start: out, count: count))
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        [UInt8](try InputFile.read(path, what: "image file"))
    }

    private static func call(_ path: String, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var message = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        guard status == 0 else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw OnboardError.format(path: path, item: nil, reason: "bad JPEG: \(text.isEmpty ? "decoder error" : text)")
        }
    }
}
