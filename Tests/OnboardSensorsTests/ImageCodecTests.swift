import Foundation
import OnboardCore
import OnboardSensors
import OnboardTestSupport
import XCTest

/// A smooth test picture (ramps and a low-frequency wave), deterministic.
func testPicture(width: Int, height: Int) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let o = (y * width + x) * 3
            pixels[o] = UInt8((x * 255) / max(width - 1, 1))
            pixels[o + 1] = UInt8((y * 255) / max(height - 1, 1))
            pixels[o + 2] = UInt8(128 + 100 * sin(Double(x) / 7) * cos(Double(y) / 9))
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
    zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(max(a.count, 1))
}

final class ImageCodecTests: XCTestCase {
    func test_jpegRoundTripKeepsThePicture() throws {
        let picture = testPicture(width: 96, height: 64)
        let bytes = try JPEGCodec.encode(picture, quality: 95)
        XCTAssertEqual(try JPEGCodec.size(of: bytes, path: "p.jpg").width, 96)
        let decoded = try JPEGCodec.decode(bytes, path: "p.jpg")
        XCTAssertEqual([decoded.width, decoded.height], [96, 64])
        XCTAssertLessThan(meanAbsoluteDifference(decoded.pixels, picture.pixels), 3)
        let bgr = try JPEGCodec.decode(bytes, path: "p.jpg", bgr: true)
        XCTAssertEqual(bgr.pixels[0], decoded.pixels[2])
        XCTAssertEqual(try JPEGCodec.encode(picture, quality: 95), bytes)   // deterministic
    }

    func test_corruptOrTruncatedJPEGIsAnErrorNotAnExit() throws {
        let bytes = try JPEGCodec.encode(testPicture(width: 64, height: 48), quality: 90)
        let truncated = Array(bytes.prefix(bytes.count / 2))
        XCTAssertThrowsError(try JPEGCodec.decode(truncated, path: "cut.jpg")) { error in
            XCTAssertTrue("\(error)".contains("cut.jpg"), "\(error)")
        }
        XCTAssertThrowsError(try JPEGCodec.decode(Array("not a jpeg at all".utf8), path: "text.jpg")) { error in
            XCTAssertTrue("\(error)".contains("text.jpg"), "\(error)")
        }
        XCTAssertThrowsError(try JPEGCodec.decode([], path: "empty.jpg"))
        let directory = TestPaths.temporaryDirectory("jpeg")
        XCTAssertThrowsError(try JPEGCodec.decodeFile("\(directory)/missing.jpg")) { error in
            XCTAssertTrue("\(error)".contains("missing.jpg"))
        }
    }

    func test_headerClaimingAHugeImageIsAnErrorBeforeAnyAllocation() throws {
        // The fuzzer's find: a few hundred bytes whose frame header says 65471 x 64463 made decode
        // ask for 12 GB. Patch the SOF0 size of a small picture the same way.
        var bytes = try JPEGCodec.encode(testPicture(width: 16, height: 16), quality: 90)
        let sof = try XCTUnwrap((0..<bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        bytes.replaceSubrange(sof + 5..<sof + 9, with: [0xFB, 0xCF, 0xFF, 0xBF])
        XCTAssertEqual(try JPEGCodec.size(of: bytes, path: "huge.jpg").width, 65471)
        XCTAssertThrowsError(try JPEGCodec.decode(bytes, path: "huge.jpg")) { error in
            XCTAssertTrue("\(error)".contains("65471x64463 is not supported"), "\(error)")
        }
        XCTAssertThrowsError(try JPEGCodec.decode(bytes, path: "huge.jpg", eighths: 3))
    }

    func test_skippedTopRowsLeaveTheRestBitExact() throws {
        let bytes = try JPEGCodec.encode(testPicture(width: 160, height: 90), quality: 90)
        for eighths in [8, 4] {
            let full = try JPEGCodec.decode(bytes, path: "p", eighths: eighths, bgr: true)
            for first in [1, 13, 30] {
                let bottom = try JPEGCodec.decode(bytes, path: "p", eighths: eighths, bgr: true, firstRow: first)
                XCTAssertEqual(bottom.height, full.height - first)
                XCTAssertEqual(bottom.pixels, Array(full.pixels[(first * full.width * 3)...]), "scale \(eighths)/8 from row \(first)")
            }
        }
    }

    func test_pillowResizeIsReproducedExactly() throws {
        let path = TestPaths.fixture("pillow-resample.json")
        let fixture = try JSONSerialization.jsonObject(with: try XCTUnwrap(FileManager.default.contents(atPath: path))) as? [String: Any]
        let source = try XCTUnwrap(fixture?["pixels"] as? [Int]).map { UInt8($0) }
        let image = RGBImage(width: try XCTUnwrap(fixture?["width"] as? Int), height: try XCTUnwrap(fixture?["height"] as? Int),
                             pixels: source)
        let cases = try XCTUnwrap(fixture?["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 5)
        for c in cases {
            let w = try XCTUnwrap(c["width"] as? Int), h = try XCTUnwrap(c["height"] as? Int)
            let filter = try XCTUnwrap(ResampleFilter(rawValue: try XCTUnwrap(c["filter"] as? String)))
            let expected = try XCTUnwrap(c["pixels"] as? [Int]).map { UInt8($0) }
            XCTAssertEqual(PillowResampler.resize(image, width: w, height: h, filter: filter).pixels, expected, "\(w)x\(h) \(filter)")
            // A window of the resize equals the same window cropped from the full resize.
            let window = PillowResampler.resizeWindow(image, width: w, height: h, rows: (h / 3)..<h, columns: 1..<w, filter: filter)
            var cropped: [UInt8] = []
            for y in (h / 3)..<h { cropped += expected[((y * w + 1) * 3)..<((y * w + w) * 3)] }
            XCTAssertEqual(window.pixels, cropped)
        }
    }

    func test_dctScaledDecodeIsCloseToFullDecodeAndResize() throws {
        let picture = testPicture(width: 320, height: 180)
        let bytes = try JPEGCodec.encode(picture, quality: 92)
        XCTAssertEqual(JPEGCodec.dctScale(width: 320, height: 180, minWidth: 160, minHeight: 90), 4)
        XCTAssertEqual(JPEGCodec.dctScale(width: 1600, height: 900, minWidth: 1408, minHeight: 792), 8)
        let scaled = try JPEGCodec.decode(bytes, path: "p", eighths: 4)
        XCTAssertEqual([scaled.width, scaled.height], [160, 90])
        let full = PillowResampler.resize(try JPEGCodec.decode(bytes, path: "p"), width: 160, height: 90, filter: .bicubic)
        XCTAssertLessThan(meanAbsoluteDifference(scaled.pixels, full.pixels), 2.5)
    }

    func test_preprocessingGeometryMatchesPETR() {
        var p = PETRPreprocessing.vovnet800x320
        var g = p.geometry(imageWidth: 1600, imageHeight: 900)
        XCTAssertEqual(g.scale, 0.5)
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.cropX, g.cropY], [800, 450, 0, 130])
        p.width = 1408; p.height = 512
        g = p.geometry(imageWidth: 1600, imageHeight: 900)
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.cropX, g.cropY], [1408, 792, 0, 280])
        p.width = 1600; p.height = 640
        g = p.geometry(imageWidth: 1600, imageHeight: 900)
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.cropY], [1600, 900, 260])
        // K' = ida K: a pixel (u, v) of the original lands at (r u - cropX, r v - cropY).
        let k = Matrix3([1266.4, 0, 816.3, 0, 1266.4, 491.5, 0, 0, 1])
        let updated = PETRPreprocessing.vovnet800x320.geometry(imageWidth: 1600, imageHeight: 900).updated(intrinsic: k)
        XCTAssertEqual(updated.values, [633.2, 0, 408.15, 0, 633.2, 245.75 - 130, 0, 0, 1])
    }

    /// The codes path reads the same resized pixels the float path normalises: with the float
    /// normalisation of each level as its table, every float equals its level's value.
    func test_preprocessingToCodesLooksUpTheSamePixelsTheFloatPathNormalises() throws {
        let width = 64, height = 36
        var random = SplitMix64(seed: 5)
        let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let bytes = try JPEGCodec.encode(RGBImage(width: width, height: height, pixels: pixels), quality: 90)
        var p = PETRPreprocessing.vovnet800x320
        p.width = 32; p.height = 12
        let decoded = try p.decode(jpeg: bytes, path: "a.jpg")
        let count = 3 * p.width * p.height
        var floats = [Float](repeating: .nan, count: count), codes = [UInt8](repeating: 0, count: count)
        p.finish(decoded, into: &floats)
        let identity = [[UInt8]](repeating: (0...255).map { UInt8($0) }, count: 3)
        p.finish(decoded, codes: &codes, tables: identity)
        let levels = (0..<3).map { p.normalizedLevels(channel: $0) }
        let plane = p.width * p.height
        for i in 0..<count { XCTAssertEqual(floats[i], levels[i / plane][Int(codes[i])], "element \(i)") }
        XCTAssertGreaterThan(Set(codes).count, 50)
        // A table is applied per channel.
        let shifted = (0..<3).map { c in (0...255).map { UInt8((Int($0) + 60 * c) % 256) } }
        var mapped = [UInt8](repeating: 0, count: count)
        p.finish(decoded, codes: &mapped, tables: shifted)
        for i in 0..<count { XCTAssertEqual(mapped[i], shifted[i / plane][Int(codes[i])]) }
    }

    func test_preprocessingNormalisesCroppedBottomRowsInChannelOrder() throws {
        // Rows of constant colour: after the 2x reduction and the bottom crop, row y of the output
        // comes from source rows around 2 (y + cropY).
        let width = 64, height = 36
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height { for x in 0..<width { pixels[(y * width + x) * 3] = UInt8(y * 7); pixels[(y * width + x) * 3 + 2] = 50 } }
        let directory = TestPaths.temporaryDirectory("prep")
        let file = "\(directory)/a.jpg"
        try AtomicFile(path: file).write(bytes: try JPEGCodec.encode(RGBImage(width: width, height: height, pixels: pixels), quality: 100))
        var p = PETRPreprocessing.vovnet800x320
        p.width = 32; p.height = 12   // r = 0.5 -> 32x18, crop the bottom 12 rows (cropY 6)
        for dct in [true, false] {
            p.dctScaling = dct
            let tensor = try p.batch(files: [file, file], threads: 2)
            XCTAssertEqual(tensor.shape, [2, 3, 12, 32])
            let values = tensor.floats()
            // BGR order: channel 0 is blue (50), channel 2 is red (the row ramp).
            XCTAssertEqual(values[5 * 32 + 10], (50 - 103.530) / 57.375, accuracy: 0.1)
            let red = values[2 * 12 * 32 + 5 * 32 + 10] * 58.395 + 123.675
            XCTAssertEqual(red, Float(7 * (2 * (5 + 6) + 0.5)), accuracy: 6, "dct \(dct)")
            XCTAssertEqual(Array(values[0..<(3 * 12 * 32)]), Array(values[(3 * 12 * 32)...]))
        }
        XCTAssertThrowsError(try p.batch(files: [file, "\(directory)/none.jpg"], threads: 2)) {
            XCTAssertTrue("\($0)".contains("none.jpg"))
        }
    }
}
